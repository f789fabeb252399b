package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.GpuPipelineTesting.assertRejects;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertSameBits;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertSameError;
import static org.junit.jupiter.api.Assertions.assertEquals;

import org.efcp.cuda.GpuContext;
import org.efcp.optim.DirectionPipeline;
import org.efcp.optim.ErrorFeedback;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The GPU AdaGrad-EF and SGD pipelines against the CPU {@link DirectionPipeline}: AdaGrad-EF's u and ξ bitwise at
 * every step (d = 769,000, k = 1 %, and a small shape with ε = 0), SGD's u = g bitwise, through the host and the
 * device APIs. The argument checks run without a device.
 */
class GpuAdagradEfPipelineTest {

  @Test
  void badArgumentsAreRejectedBeforeTheDeviceIsTouched() {
    assertRejects("d", () -> new GpuAdagradEfPipeline(null, 0, 1, 1e-10));
    assertRejects("k", () -> new GpuAdagradEfPipeline(null, 10, 11, 1e-10));
    assertRejects("adagradEpsilon", () -> new GpuAdagradEfPipeline(null, 10, 2, -1));
    assertRejects("d", () -> new GpuSgdPipeline(null, 0));
  }

  @Test
  @Tag("gpu")
  void adagradEfMatchesTheCpuPipelineBitForBit() {
    GpuContext ctx = GpuPipelineTesting.checkedContext();
    for (int[] shape : new int[][] {{769_000, 7_690}, {5_000, 4_999}}) {
      int d = shape[0];
      int k = shape[1];
      double eps = d > 10_000 ? 1e-10 : 0.0;
      OptimizerConfig config = OptimizerConfig.builder(Method.ADAGRAD_EF, TensorLayout.flat(d)).density(k)
          .adagradEpsilon(eps).build();
      DirectionPipeline cpu = DirectionPipeline.create(config);
      GradientSequence gradients = new GradientSequence(d, 0.125, 37);
      double[] uCpu = new double[d];
      double[] uGpu = new double[d];
      try (GpuAdagradEfPipeline gpu = new GpuAdagradEfPipeline(ctx, d, k, eps)) {
        for (int t = 0; t < 8; t++) {
          double[] g = gradients.gradient(t);
          cpu.direction(g, uCpu);
          gpu.direction(g, uGpu);
          assertSameBits(t, uCpu, uGpu);
          assertSameError(t, ((ErrorFeedback) cpu.compressor()).error(), gpu.errorBuffer());
        }
        assertEquals(8, gpu.stepCount());
      }
    }
  }

  @Test
  @Tag("gpu")
  void deviceApiGivesTheHostApisDirections() {
    GpuContext ctx = GpuPipelineTesting.checkedContext();
    GradientSequence gradients = new GradientSequence(20_011, 0.125, 38);
    try (GpuAdagradEfPipeline host = new GpuAdagradEfPipeline(ctx, 20_011, 200, 1e-10);
        GpuAdagradEfPipeline device = new GpuAdagradEfPipeline(ctx, 20_011, 200, 1e-10)) {
      GpuPipelineTesting.assertDeviceApiMatchesHostApi(ctx, host, device, gradients, 6,
          GpuPipelineTesting::assertSameBits);
    }
    try (GpuSgdPipeline sgd = new GpuSgdPipeline(ctx, 20_011)) {
      double[] u = new double[20_011];
      for (int t = 0; t < 3; t++) {
        double[] g = gradients.gradient(t);
        sgd.direction(g, u);
        assertSameBits(t, g, u);
      }
      assertEquals(3, sgd.stepCount());
    }
  }
}
