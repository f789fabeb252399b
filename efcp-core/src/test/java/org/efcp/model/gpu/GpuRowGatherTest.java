package org.efcp.model.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.efcp.cuda.GpuContext;
import org.efcp.model.DenseBlock;
import org.efcp.model.MultinomialLogisticRegression;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Mini-batches gathered on the device out of a resident block give the CPU model's loss and gradient on the same
 * rows gathered on the host (relative 1e-4, the GPU model's float32 tolerance), for batches of different sizes in
 * a row (the scratch grows and is reused) and with repeated and unordered rows; bad indices are refused.
 */
@Tag("gpu")
class GpuRowGatherTest {

  @Test
  void gatheredBatchesGiveTheCpuGradientOfTheSameRows() {
    GpuContext context = GpuModelFixtures.gpu();
    Random rnd = new Random(41);
    int n = 2000;
    int f = 37;
    int c = 5;
    DenseBlock all = GpuModelFixtures.randomBlock(n, f, c, rnd);
    MultinomialLogisticRegression cpu = new MultinomialLogisticRegression(f, c, true);
    double[] params = GpuModelFixtures.gaussian(cpu.numParameters(), 0.3, rnd);
    try (GpuMultinomialLogisticRegression model = new GpuMultinomialLogisticRegression(context, f, c, true);
        GpuBlock resident = model.upload(all);
        GpuRowGather gather = new GpuRowGather(context)) {
      for (int size : new int[] {64, 1999, 7, 2000}) {
        int[] rows = new int[size];
        for (int i = 0; i < size; i++) {
          rows[i] = rnd.nextInt(n);
        }
        GpuBlock batch = gather.gather(resident, rows, size);
        assertEquals(size, batch.numRows());
        double[] gGpu = new double[cpu.numParameters()];
        double lossGpu = model.addLossAndGradient(batch, params, gGpu);
        DenseBlock host = rowsOf(all, rows);
        double[] gCpu = new double[cpu.numParameters()];
        double lossCpu = cpu.addLossAndGradient(host, params, gCpu);
        GpuModelAssertions.assertRelativelyClose("batch of " + size + " loss", lossCpu, lossGpu, 1e-4);
        GpuModelAssertions.assertNormClose("batch of " + size + " gradient", gCpu, gGpu, 0, gCpu.length, 1e-4);
      }
      IllegalArgumentException outside = assertThrows(IllegalArgumentException.class,
          () -> gather.gather(resident, new int[] {0, n}, 2));
      assertTrue(outside.getMessage().startsWith("rows: index " + n), outside.getMessage());
      assertThrows(IllegalArgumentException.class, () -> gather.gather(resident, new int[] {0}, 2));
    }
  }

  private static DenseBlock rowsOf(DenseBlock all, int[] rows) {
    int f = all.numFeatures();
    double[] x = new double[rows.length * f];
    double[] y = new double[rows.length];
    double[] w = new double[rows.length];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(all.features(), rows[i] * f, x, i * f, f);
      y[i] = all.labels()[rows[i]];
      w[i] = all.weights()[rows[i]];
    }
    return new DenseBlock(rows.length, f, x, y, w);
  }
}
