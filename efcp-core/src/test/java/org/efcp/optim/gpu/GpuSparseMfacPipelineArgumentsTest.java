package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/** The constructor's checks run before the device is touched, so they are testable without a GPU. */
class GpuSparseMfacPipelineArgumentsTest {

  private static void rejects(String parameter, Executable construct) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, construct);
    assertTrue(e.getMessage().startsWith(parameter + ":"), e.getMessage());
  }

  @Test
  void badSizesAndDampingAreRejectedWithTheParameterName() {
    rejects("d", () -> new GpuSparseMfacPipeline(null, 0, 4, 1, 1e-3));
    rejects("m", () -> new GpuSparseMfacPipeline(null, 10, 0, 1, 1e-3));
    rejects("m", () -> new GpuSparseMfacPipeline(null, 10, 46341, 1, 1e-3));
    rejects("k", () -> new GpuSparseMfacPipeline(null, 10, 4, 0, 1e-3));
    rejects("k", () -> new GpuSparseMfacPipeline(null, 10, 4, 11, 1e-3));
    rejects("damping", () -> new GpuSparseMfacPipeline(null, 10, 4, 2, 0.0));
    rejects("damping", () -> new GpuSparseMfacPipeline(null, 10, 4, 2, Double.NaN));
    rejects("damping", () -> new GpuSparseMfacPipeline(null, 10, 4, 2, Double.POSITIVE_INFINITY));
  }

  @Test
  void aMissingContextIsRejectedAfterTheArguments() {
    assertThrows(NullPointerException.class, () -> new GpuSparseMfacPipeline(null, 10, 4, 2, 1e-3));
  }
}
