package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;


import org.efcp.cuda.CudaException;
import org.efcp.cuda.DeviceBallast;
import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuUsage;
import org.efcp.optim.EfcpOptimizer;
import org.efcp.optim.LearningRateSchedule;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.StepResult;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link EfcpOptimizer#onGpu} against the CPU optimizer on the same gradients, with clipping, momentum, weight decay
 * and a cosine schedule, for every method: θ agrees to a relative 1e-5 after every step (u agrees to 1e-5 or better
 * and the host part is identical), the step results agree, and the GPU optimizer resets to an empty
 * state holding what it held before, and gives back every device buffer, stream and event on close. A second run of
 * the same steps, on pooled memory that still holds the first run's data, repeats it bit for bit, except where sparse
 * M-FAC and sparse GGT add with float64 atomics (to rounding there). A state too large for the device fails as out of
 * memory and leaves nothing held, wherever in the construction or the first step the memory runs out (a ballast
 * leaves 64 MiB of the device free).
 */
@Tag("gpu")
class GpuEfcpOptimizerTest {

  @ParameterizedTest
  @EnumSource(Method.class)
  void gpuOptimizerTakesTheCpuOptimizersSteps(Method method) throws Exception {
    int d = 20_011;
    int steps = 12;
    OptimizerConfig config = OptimizerConfig.builder(method, TensorLayout.flat(d)).window(5).density(0.01)
        .damping(1e-3).learningRate(0.05).momentum(0.9).weightDecay(1e-4).clipNorm(50)
        .schedule(LearningRateSchedule.parse("cosine", steps)).build();
    GpuContext context = GpuPipelineTesting.checkedContext();
    GradientSequence gradients = new GradientSequence(d, 0.125, 31);
    EfcpOptimizer cpu = new EfcpOptimizer(config);
    double[] thetaCpu = new double[d];
    double[] thetaGpu = new double[d];
    GpuUsage before = context.usage();
    try (EfcpOptimizer gpu = EfcpOptimizer.onGpu(config, context)) {
      GpuUsage open = context.usage();
      assertEquals("gpu", gpu.device());
      assertNull(gpu.pipeline());
      assertTrue(gpu.memoryBytes() > 0);
      for (int t = 0; t < steps; t++) {
        double[] g = gradients.gradient(t);
        StepResult a = cpu.step(thetaCpu, g, true);
        StepResult b = gpu.step(thetaGpu, g, true);
        assertEquals(a.clipped(), b.clipped(), "step " + t + ": clipped");
        assertEquals(a.learningRate(), b.learningRate(), "step " + t + ": learning rate");
        GpuPipelineTesting.assertClose(t, thetaCpu, thetaGpu, 1e-5);
      }
      gpu.reset();
      assertEquals(0, gpu.stepCount());
      assertEquals(open, context.usage(), "reset gives back the old state's buffers");
      cpu.reset();
      double[] a = new double[d];
      double[] b = new double[d];
      cpu.step(a, gradients.gradient(0));
      gpu.step(b, gradients.gradient(0));
      GpuPipelineTesting.assertClose(0, a, b, 1e-5);
      gpu.close();
      assertThrows(IllegalStateException.class, () -> gpu.step(new double[d], gradients.gradient(1)));
    }
    assertEquals(before, context.usage(), "close gives everything back");
  }

  @ParameterizedTest
  @EnumSource(Method.class)
  void aSecondRunOnReusedMemoryRepeatsTheFirst(Method method) {
    int d = 20_011;
    OptimizerConfig config = OptimizerConfig.builder(method, TensorLayout.flat(d)).window(5).density(0.01)
        .damping(1e-3).learningRate(0.05).momentum(0.9).build();
    GpuContext context = GpuPipelineTesting.checkedContext();
    double[] first = run(config, context);
    double[] second = run(config, context);
    if (method == Method.SPARSE_MFAC || method == Method.SPARSE_GGT) {
      GpuPipelineTesting.assertClose(12, first, second, 1e-12);
    } else {
      assertArrayEquals(first, second, method + ": θ after 12 steps, first run vs second");
    }
  }

  /** θ after 12 steps of a fresh GPU optimizer from θ = 0, closed afterwards (its blocks go back to the pool). */
  private static double[] run(OptimizerConfig config, GpuContext context) {
    GradientSequence gradients = new GradientSequence(config.dimension(), 0.125, 77);
    double[] theta = new double[config.dimension()];
    try (EfcpOptimizer gpu = EfcpOptimizer.onGpu(config, context)) {
      for (int t = 0; t < 12; t++) {
        gpu.step(theta, gradients.gradient(t));
      }
    }
    return theta;
  }

  @ParameterizedTest
  @EnumSource(Method.class)
  void aStateTooLargeForTheDeviceFailsAsOutOfMemoryAndHoldsNothing(Method method) {
    GpuContext context = GpuPipelineTesting.checkedContext();
    long free = 64L << 20;
    // From sizes whose state alone exceeds what is free down to ones that run out at a later allocation, or at the
    // first step's staging, or fit.
    // (What one size leaves in the pool's cache goes back to the driver when the next runs out.)
    int outOfMemory = 0;
    try (DeviceBuffer ballast = DeviceBallast.leaveFree(context, free)) {
      GpuUsage before = context.usage();
      for (long divisor : new long[] {6, 12, 20, 28, 36}) {
        int d = (int) (free / divisor);
        OptimizerConfig config = OptimizerConfig.builder(method, TensorLayout.flat(d)).window(4).density(0.01)
            .build();
        try (EfcpOptimizer gpu = EfcpOptimizer.onGpu(config, context)) {
          gpu.step(new double[d], new double[d]);
        } catch (CudaException e) {
          assertTrue(e.isOutOfMemory(), e.getMessage());
          outOfMemory++;
        }
        assertEquals(before, context.usage(), method + " at d = " + d);
      }
    }
    assertTrue(outOfMemory > 0, method + ": the largest state fitted in 64 MiB");
  }

}
