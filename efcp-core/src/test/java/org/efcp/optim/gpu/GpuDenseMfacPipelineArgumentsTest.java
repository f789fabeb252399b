package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The constructor's checks run before the device is touched, so they are testable without a GPU. */
class GpuDenseMfacPipelineArgumentsTest {

  private static void rejects(String parameter, Executable construct) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, construct);
    assertTrue(e.getMessage().startsWith(parameter + ":"), e.getMessage());
  }

  @Test
  void badSizesAndDampingAreRejectedWithTheParameterName() {
    rejects("d", () -> new GpuDenseMfacPipeline(null, 0, 4, 1e-3));
    rejects("d", () -> new GpuDenseMfacPipeline(null, Integer.MAX_VALUE, 4, 1e-3));
    rejects("m", () -> new GpuDenseMfacPipeline(null, 10, 0, 1e-3));
    rejects("m", () -> new GpuDenseMfacPipeline(null, 10, 46341, 1e-3));
    rejects("damping", () -> new GpuDenseMfacPipeline(null, 10, 4, 0.0));
    rejects("damping", () -> new GpuDenseMfacPipeline(null, 10, 4, Double.NaN));
    rejects("damping", () -> new GpuDenseMfacPipeline(null, 10, 4, Double.POSITIVE_INFINITY));
  }

  @Test
  void aMissingContextIsRejectedAfterTheArguments() {
    assertThrows(NullPointerException.class, () -> new GpuDenseMfacPipeline(null, 10, 4, 1e-3));
  }
}
