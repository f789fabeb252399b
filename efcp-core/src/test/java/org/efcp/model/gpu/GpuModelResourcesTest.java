package org.efcp.model.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;
import java.util.stream.Stream;

import org.efcp.cuda.CudaException;
import org.efcp.cuda.DeviceBallast;
import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuUsage;
import org.efcp.model.Activation;
import org.efcp.model.BinomialLogisticRegression;
import org.efcp.model.DenseBlock;
import org.efcp.model.DifferentiableModel;
import org.efcp.model.MultilayerPerceptron;
import org.efcp.model.MultinomialLogisticRegression;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A GPU model gives back every device buffer, pinned buffer, stream and event it took ({@link GpuContext#usage()}
 * returns to where it was) once it, its blocks and the gatherer are closed, after host-form and device-form gradients
 * at both precisions; a refused upload leaves nothing behind, and so does running out of device memory in an upload or
 * a gradient, after which the model still gives the CPU model's gradient. An executor runs fit after fit in one JVM,
 * so anything kept here would pile up there.
 */
@Tag("gpu")
class GpuModelResourcesTest {

  static Stream<Arguments> models() {
    return Stream.of(
        Arguments.of(new MultinomialLogisticRegression(9, 4, true), 4, SgemmPrecision.FP32),
        Arguments.of(new BinomialLogisticRegression(9, false), 2, SgemmPrecision.FP32),
        Arguments.of(new MultilayerPerceptron(new int[] {9, 16, 3}, Activation.TANH), 3, SgemmPrecision.FP32),
        Arguments.of(new MultilayerPerceptron(new int[] {9, 16, 3}, Activation.RELU), 3, SgemmPrecision.TF32));
  }

  @ParameterizedTest
  @MethodSource("models")
  void everythingTakenIsGivenBackOnClose(DifferentiableModel cpu, int classes, SgemmPrecision precision) {
    GpuContext ctx = GpuModelFixtures.gpu();
    Random rnd = new Random(7);
    DenseBlock block = GpuModelFixtures.randomBlock(300, 9, classes, rnd);
    double[] params = GpuModelFixtures.gaussian(cpu.numParameters(), 0.2, rnd);
    int d = cpu.numParameters();
    GpuUsage before = ctx.usage();
    try (GpuModel model = GpuModels.create(ctx, cpu, precision);
        GpuBlock resident = model.upload(block);
        GpuRowGather gather = new GpuRowGather(ctx);
        DeviceBuffer theta = ctx.allocate(4L * d);
        DeviceBuffer grad = ctx.allocate(8L * d)) {
      model.addLossAndGradient(resident, params, new double[d]);
      float[] p32 = new float[d];
      for (int k = 0; k < d; k++) {
        p32[k] = (float) params[k];
      }
      theta.copyFrom(p32, 0, d, 0);
      grad.copyFrom(new double[d], 0, d, 0);
      GpuBlock batch = gather.gather(resident, new int[] {5, 17, 299, 5}, 4);
      model.addLossAndGradient(batch, theta, grad);
      assertNotEquals(before, ctx.usage(), "the model holds device memory while open");
    }
    assertEquals(before, ctx.usage());
  }

  @ParameterizedTest
  @MethodSource("models")
  void aRefusedUploadLeavesNothingBehind(DifferentiableModel cpu, int classes, SgemmPrecision precision) {
    GpuContext ctx = GpuModelFixtures.gpu();
    DenseBlock block = GpuModelFixtures.randomBlock(50, 9, classes, new Random(3));
    block.labels()[49] = classes;
    try (GpuModel model = GpuModels.create(ctx, cpu, precision)) {
      GpuUsage open = ctx.usage();
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> model.upload(block));
      assertEquals(open, ctx.usage(), e.getMessage());
    }
  }

  @ParameterizedTest
  @MethodSource("models")
  void runningOutOfDeviceMemoryLeavesNothingBehindAndTheModelWorksAfterwards(DifferentiableModel cpu, int classes,
      SgemmPrecision precision) {
    // A ballast that leaves 1 to 4 MiB free is the emulated driver's business; a device's own reserve is not known.
    assumeTrue(Boolean.getBoolean("efcp.cuda.emulated"), "emulated driver only");
    GpuContext ctx = GpuModelFixtures.gpu();
    Random rnd = new Random(11);
    DenseBlock big = GpuModelFixtures.randomBlock(200_000, 9, classes, rnd);  // 8.8 MB on the device
    DenseBlock block = GpuModelFixtures.randomBlock(50_000, 9, classes, rnd);
    double[] params = GpuModelFixtures.gaussian(cpu.numParameters(), 0.2, rnd);
    GpuUsage before = ctx.usage();
    try (GpuModel model = GpuModels.create(ctx, cpu, precision)) {
      try (DeviceBuffer ballast = DeviceBallast.leaveFree(ctx, 4L << 20)) {
        GpuUsage open = ctx.usage();
        CudaException e = assertThrows(CudaException.class, () -> model.upload(big).close());
        assertTrue(e.isOutOfMemory(), e.getMessage());
        assertEquals(open, ctx.usage(), "a failed upload holds nothing");
      }
      try (GpuBlock resident = model.upload(block)) {
        try (DeviceBuffer ballast = DeviceBallast.leaveFree(ctx, 1L << 20)) {
          model.addLossAndGradient(resident, params, new double[cpu.numParameters()]);
        } catch (CudaException e) {
          assertTrue(e.isOutOfMemory(), e.getMessage());
        }
        // TF32 rounds the products' operands to 10 mantissa bits (see GpuMultilayerPerceptronTest).
        double tolerance = precision == SgemmPrecision.TF32 ? 1e-2 : 1e-4;
        GpuModelContract.assertMatchesCpu("after running out of memory", cpu, model, block, params, tolerance);
      }
    }
    assertEquals(before, ctx.usage());
  }
}
