package org.efcp.model.gpu;

import static org.efcp.model.gpu.GpuModelFixtures.gaussian;
import static org.efcp.model.gpu.GpuModelFixtures.gpu;
import static org.efcp.model.gpu.GpuModelFixtures.randomBlock;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.efcp.cuda.GpuContext;
import org.efcp.model.BinomialLogisticRegression;
import org.efcp.model.DenseBlock;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The binomial model through the two-class softmax against the CPU {@link BinomialLogisticRegression} (float64):
 * loss and gradient of w and b within the GPU models' float32 tolerance 1e-4, and the {@link GpuModel} contract.
 */
class GpuBinomialLogisticRegressionTest {
  private static final double TOLERANCE = 1e-4;

  @Test
  void gpuModelsBuildsItForTheBinomialModel() {
    assertTrue(GpuModels.supports(new BinomialLogisticRegression(5, true)));
  }

  @Test
  @Tag("gpu")
  void lossAndGradientMatchTheCpuModelWithAndWithoutIntercept() {
    Random rnd = new Random(51);
    for (int[] shape : new int[][] {{3000, 50}, {8192, 768}}) {
      DenseBlock block = randomBlock(shape[0], shape[1], 2, rnd);
      for (boolean intercept : new boolean[] {true, false}) {
        BinomialLogisticRegression cpu = new BinomialLogisticRegression(shape[1], intercept);
        double[] params = gaussian(cpu.numParameters(), 0.1, rnd);
        try (GpuBinomialLogisticRegression model = new GpuBinomialLogisticRegression(gpu(), shape[1], intercept)) {
          GpuModelContract.assertMatchesCpu(shape[0] + "×" + shape[1] + ", intercept=" + intercept, cpu, model,
              block, params, TOLERANCE);
        }
      }
    }
  }

  @Test
  @Tag("gpu")
  void keepsTheGpuModelContract() {
    Random rnd = new Random(52);
    DenseBlock block = randomBlock(1500, 40, 2, rnd);
    GpuContext ctx = gpu();
    try (GpuBinomialLogisticRegression model = new GpuBinomialLogisticRegression(ctx, 40, true)) {
      GpuModelContract.assertZeroWeightRowsAddNothing(model, block, rnd);
      GpuModelContract.assertDeviceFormEqualsHostFormAndRepeats(ctx, model, block, rnd);
      GpuModelContract.assertEmptyBlockAddsNothing(model, 40);
      GpuModelContract.assertRejectsMismatchedShapes(model, 40, 2);
    }
  }
}
