package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.GpuPipelineTesting.assertRejects;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The constructor's checks run before the device is touched, so they are testable without a GPU. */
class GpuSparseMfacPipelineArgumentsTest {
  @Test
  void badSizesAndDampingAreRejectedWithTheParameterName() {
    assertRejects("d", () -> new GpuSparseMfacPipeline(null, 0, 4, 1, 1e-3));
    assertRejects("m", () -> new GpuSparseMfacPipeline(null, 10, 0, 1, 1e-3));
    assertRejects("m", () -> new GpuSparseMfacPipeline(null, 10, 46341, 1, 1e-3));
    assertRejects("k", () -> new GpuSparseMfacPipeline(null, 10, 4, 0, 1e-3));
    assertRejects("k", () -> new GpuSparseMfacPipeline(null, 10, 4, 11, 1e-3));
    assertRejects("damping", () -> new GpuSparseMfacPipeline(null, 10, 4, 2, 0.0));
    assertRejects("damping", () -> new GpuSparseMfacPipeline(null, 10, 4, 2, Double.NaN));
    assertRejects("damping", () -> new GpuSparseMfacPipeline(null, 10, 4, 2, Double.POSITIVE_INFINITY));
  }

  @Test
  void aMissingContextIsRejectedAfterTheArguments() {
    assertThrows(NullPointerException.class, () -> new GpuSparseMfacPipeline(null, 10, 4, 2, 1e-3));
  }
}
