package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.GpuPipelineTesting.assertRejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Test;

/** The constructor's checks run before the device is touched, so they are testable without a GPU. */
class GpuLowRankMfacPipelineArgumentsTest {
  private static final TensorLayout LAYOUT = TensorLayout.parse("30x40,30");

  @Test
  void badSizesRankAndDampingAreRejectedWithTheParameterName() {
    assertRejects("m", () -> new GpuLowRankMfacPipeline(null, LAYOUT, 0, 4, 0, 1e-3));
    assertRejects("m", () -> new GpuLowRankMfacPipeline(null, LAYOUT, 4097, 4, 0, 1e-3));
    assertRejects("rank", () -> new GpuLowRankMfacPipeline(null, LAYOUT, 4, 0, 0, 1e-3));
    assertRejects("rank", () -> new GpuLowRankMfacPipeline(null, LAYOUT, 4, GpuLowRankMfacPipeline.MAX_RANK + 1, 0, 1e-3));
    assertRejects("damping", () -> new GpuLowRankMfacPipeline(null, LAYOUT, 4, 4, 0, 0.0));
    assertRejects("damping", () -> new GpuLowRankMfacPipeline(null, LAYOUT, 4, 4, 0, Double.NaN));
    assertRejects("damping", () -> new GpuLowRankMfacPipeline(null, LAYOUT, 4, 4, 0, Double.POSITIVE_INFINITY));
  }

  @Test
  void aTensorBeyondTheKernelsGridsIsRejected() {
    // 65,535 · 64 rows is the most the 2-D grids of lr_power_q and lr_combine_matrix cover.
    TensorLayout tall = new TensorLayout(List.of(new int[] {65_535 * 64 + 1, 1}, new int[] {3}));
    assertRejects("layout", () -> new GpuLowRankMfacPipeline(null, tall, 4, 4, 0, 1e-3));
  }

  @Test
  void gpuPipelinesBuildsThisPipelineForLowRankMfac() {
    assertEquals("the GPU low-rank compressor takes rank <= 8, got 9",
        GpuPipelines.obstacle(Method.LOWRANK_MFAC, 4, 9));
    // Rank 9 is valid on the CPU but not here: the rejection shows the config reached this constructor's checks.
    OptimizerConfig config = OptimizerConfig.builder(Method.LOWRANK_MFAC, LAYOUT).window(4).rank(9).build();
    assertRejects("rank", () -> GpuPipelines.create(null, config));
  }

  @Test
  void aMissingLayoutOrContextIsRejectedAfterTheArguments() {
    assertThrows(NullPointerException.class, () -> new GpuLowRankMfacPipeline(null, null, 4, 4, 0, 1e-3));
    assertThrows(NullPointerException.class, () -> new GpuLowRankMfacPipeline(null, LAYOUT, 4, 4, 0, 1e-3));
  }

  @Test
  void aMissingMxmKernelIsRejectedBeforeTheDeviceIsTouched() {
    NullPointerException e = assertThrows(NullPointerException.class,
        () -> new GpuLowRankMfacPipeline(null, LAYOUT, 4, 4, 0, 1e-3, null));
    assertEquals("mxmKernel", e.getMessage());
    // The arguments come first, as for the public constructor.
    assertRejects("rank", () -> new GpuLowRankMfacPipeline(null, LAYOUT, 4, 0, 0, 1e-3, MfacCholeskyKernel.WAVEFRONT));
  }
}
