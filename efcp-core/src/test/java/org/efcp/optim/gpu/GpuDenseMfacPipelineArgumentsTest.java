package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.GpuPipelineTesting.assertRejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

/** The constructor's checks run before the device is touched, so they are testable without a GPU. */
class GpuDenseMfacPipelineArgumentsTest {
  @Test
  void badSizesAndDampingAreRejectedWithTheParameterName() {
    assertRejects("d", () -> new GpuDenseMfacPipeline(null, 0, 4, 1e-3));
    assertRejects("d", () -> new GpuDenseMfacPipeline(null, Integer.MAX_VALUE, 4, 1e-3));
    assertRejects("m", () -> new GpuDenseMfacPipeline(null, 10, 0, 1e-3));
    assertRejects("m", () -> new GpuDenseMfacPipeline(null, 10, 4097, 1e-3));
    assertRejects("m", () -> new GpuDenseMfacPipeline(null, 10, 46341, 1e-3));
    assertRejects("damping", () -> new GpuDenseMfacPipeline(null, 10, 4, 0.0));
    assertRejects("damping", () -> new GpuDenseMfacPipeline(null, 10, 4, Double.NaN));
    assertRejects("damping", () -> new GpuDenseMfacPipeline(null, 10, 4, Double.POSITIVE_INFINITY));
  }

  /** mchol_step_C and mchol_wave_C keep C columns per thread: the smallest power of two with 512 C ≥ m, at most 8. */
  @Test
  void theCholeskyKernelIsChosenByColumnsPerThread() {
    int[][] cases = {{1, 1}, {512, 1}, {513, 2}, {1024, 2}, {1025, 4}, {2048, 4}, {2049, 8}, {4096, 8}};
    for (int[] c : cases) {
      assertEquals(c[1], GpuMfacCholeskyState.columnsPerThread(c[0]), "m = " + c[0]);
    }
  }

  /** A consumer block per multiprocessor but the step's own, no more than the rows' 512-column tiles, at least one. */
  @Test
  void theOverlappedStepHasAConsumerPerSpareMultiprocessor() {
    assertEquals(131, GpuMfacCholeskyState.overlapConsumers(132, 192_250));  // an H200 at d = 769,000
    assertEquals(7, GpuMfacCholeskyState.overlapConsumers(8, 3585));
    assertEquals(7, GpuMfacCholeskyState.overlapConsumers(8, 3584));
    assertEquals(6, GpuMfacCholeskyState.overlapConsumers(8, 3072));
    assertEquals(1, GpuMfacCholeskyState.overlapConsumers(8, 1));
    assertEquals(1, GpuMfacCholeskyState.overlapConsumers(1, 100_000));
  }

  @Test
  void aMissingContextIsRejectedAfterTheArguments() {
    assertThrows(NullPointerException.class, () -> new GpuDenseMfacPipeline(null, 10, 4, 1e-3));
  }

  @Test
  void aMissingMxmKernelIsRejectedBeforeTheDeviceIsTouched() {
    NullPointerException e = assertThrows(NullPointerException.class,
        () -> new GpuDenseMfacPipeline(null, 10, 4, 1e-3, null));
    assertEquals("mxmKernel", e.getMessage());
    // The arguments come first, as for the public constructor.
    assertRejects("m", () -> new GpuDenseMfacPipeline(null, 10, 0, 1e-3, MfacCholeskyKernel.WAVEFRONT));
  }

  @Test
  void aMissingCombineIsRejectedBeforeTheDeviceIsTouched() {
    NullPointerException e = assertThrows(NullPointerException.class,
        () -> new GpuDenseMfacPipeline(null, 10, 4, 1e-3, MfacCholeskyKernel.ROWS, null));
    assertEquals("combine", e.getMessage());
    assertRejects("damping",
        () -> new GpuDenseMfacPipeline(null, 10, 4, -1.0, MfacCholeskyKernel.ROWS, DenseMfacCombine.OVERLAPPED));
  }
}
