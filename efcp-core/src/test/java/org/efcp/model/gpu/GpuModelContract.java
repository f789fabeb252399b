package org.efcp.model.gpu;

import static org.efcp.model.gpu.GpuModelAssertions.assertNormClose;
import static org.efcp.model.gpu.GpuModelAssertions.assertRelativelyClose;
import static org.efcp.model.gpu.GpuModelFixtures.gaussian;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.model.DenseBlock;
import org.efcp.model.DifferentiableModel;
import org.efcp.optim.TensorLayout;

/**
 * What every {@link GpuModel} promises, checked on a model the caller opened (these launch kernels: call them from
 * gpu-tagged tests): its loss and gradient against its CPU model's, and the contract of the interface.
 */
final class GpuModelContract {
  private GpuModelContract() {
  }

  /**
   * Runs {@code cpu} and {@code model} on {@code block} from the same non-zero gradAccum and compares what they add:
   * the loss relatively, each tensor of the CPU model's layout in the Euclidean norm.
   */
  static void assertMatchesCpu(String what, DifferentiableModel cpu, GpuModel model, DenseBlock block,
      double[] params, double tolerance) {
    int d = cpu.numParameters();
    assertEquals(d, model.numParameters());
    double[] start = new double[d];
    for (int k = 0; k < d; k++) {
      start[k] = k % 3 - 1;
    }
    double[] gCpu = start.clone();
    double lossCpu = cpu.addLossAndGradient(block, params, gCpu);
    double[] gGpu = start.clone();
    double lossGpu;
    try (GpuBlock b = model.upload(block)) {
      lossGpu = model.addLossAndGradient(b, params, gGpu);
    }
    for (int k = 0; k < d; k++) {
      gCpu[k] -= start[k];
      gGpu[k] -= start[k];
    }
    assertRelativelyClose(what + " loss", lossCpu, lossGpu, tolerance);
    TensorLayout layout = cpu.layout();
    for (int t = 0; t < layout.numTensors(); t++) {
      int from = layout.offset(t);
      assertNormClose(what + " gradient of tensor " + t + " " + Arrays.toString(layout.shape(t)), gCpu, gGpu, from,
          from + layout.size(t), tolerance);
    }
  }

  /** Rows of weight 0 (all of {@code block}'s rows, reweighted) give loss 0 and leave gradAccum as it was. */
  static void assertZeroWeightRowsAddNothing(GpuModel model, DenseBlock block, Random rnd) {
    int n = block.numRows();
    DenseBlock unweighted = new DenseBlock(n, block.numFeatures(), block.features(), block.labels(), new double[n]);
    try (GpuBlock b = model.upload(unweighted)) {
      double[] params = gaussian(model.numParameters(), 1.0, rnd);
      double[] grad = gaussian(model.numParameters(), 1.0, rnd);
      double[] before = grad.clone();
      assertEquals(0.0, model.addLossAndGradient(b, params, grad));
      assertArrayEquals(before, grad, "all-zero weights must leave gradAccum unchanged");
    }
  }

  /**
   * The device-resident form gives the host form's loss and gradient bit for bit, and a second call adds exactly
   * the same gradient again.
   */
  static void assertDeviceFormEqualsHostFormAndRepeats(GpuContext ctx, GpuModel model, DenseBlock block,
      Random rnd) {
    int d = model.numParameters();
    try (GpuBlock b = model.upload(block);
        DeviceBuffer params32 = ctx.allocate(4L * d);
        DeviceBuffer grad64 = ctx.allocate(8L * d)) {
      double[] params = gaussian(d, 0.3, rnd);
      double[] hostGrad = new double[d];
      double hostLoss = model.addLossAndGradient(b, params, hostGrad);

      params32.copyFrom(GpuBlock.toFloat(params), 0, d, 0);
      grad64.copyFrom(new double[d], 0, d, 0);
      double deviceLoss = model.addLossAndGradient(b, params32, grad64);
      double[] deviceGrad = new double[d];
      grad64.copyTo(deviceGrad, 0, d, 0);
      assertEquals(hostLoss, deviceLoss, 0.0, "loss");
      assertArrayEquals(hostGrad, deviceGrad, "gradient of the device-resident form");

      // A second call adds the same gradient again: exactly twice the first (x + x is exact).
      assertEquals(deviceLoss, model.addLossAndGradient(b, params32, grad64), 0.0, "repeated loss");
      double[] twice = new double[d];
      grad64.copyTo(twice, 0, d, 0);
      for (int k = 0; k < d; k++) {
        assertEquals(2 * deviceGrad[k], twice[k], 0.0, "gradient[" + k + "] after two calls");
      }
    }
  }

  /** A block without rows gives loss 0 and leaves gradAccum as it was. */
  static void assertEmptyBlockAddsNothing(GpuModel model, int numFeatures) {
    try (GpuBlock b = model.upload(new DenseBlock(0, numFeatures, new double[0], new double[0]))) {
      int d = model.numParameters();
      double[] grad = new double[d];
      for (int k = 0; k < d; k++) {
        grad[k] = k + 1;
      }
      double[] before = grad.clone();
      assertEquals(0.0, model.addLossAndGradient(b, new double[d], grad));
      assertArrayEquals(before, grad);
    }
  }

  /**
   * For a model of {@code numFeatures} ≥ 2 features and {@code numClasses} classes: upload refuses a block one
   * column short ("features: ") and a label equal to C ("label: "); a call refuses params one too long
   * ("params: ").
   */
  static void assertRejectsMismatchedShapes(GpuModel model, int numFeatures, int numClasses) {
    int f = numFeatures;
    IllegalArgumentException width = assertThrows(IllegalArgumentException.class,
        () -> model.upload(new DenseBlock(1, f - 1, new double[f - 1], new double[1])));
    assertTrue(width.getMessage().startsWith("features: "), width.getMessage());
    IllegalArgumentException label = assertThrows(IllegalArgumentException.class,
        () -> model.upload(new DenseBlock(1, f, new double[f], new double[] {numClasses})));
    assertTrue(label.getMessage().startsWith("label: "), label.getMessage());
    int d = model.numParameters();
    try (GpuBlock b = model.upload(new DenseBlock(1, f, new double[f], new double[] {numClasses - 1}))) {
      IllegalArgumentException params = assertThrows(IllegalArgumentException.class,
          () -> model.addLossAndGradient(b, new double[d + 1], new double[d]));
      assertTrue(params.getMessage().startsWith("params: "), params.getMessage());
    }
  }
}
