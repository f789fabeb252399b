package org.efcp.ml.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;
import org.junit.jupiter.api.Test;

class DatasetSummaryTest {

  @Test
  void mergedPartitionStatsEqualTheTwoPassWeightedFormulas() {
    Random rnd = new Random(3);
    int f = 4;
    int n = 500;
    double[][] x = new double[n][f];
    int[] y = new int[n];
    double[] w = new double[n];
    PartitionStats[] parts = {new PartitionStats(0), new PartitionStats(1), new PartitionStats(2)};
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < f; j++) {
        x[i][j] = 100 + rnd.nextGaussian() * (j + 1);
      }
      y[i] = new int[] {0, 2, 5}[rnd.nextInt(3)];
      w[i] = i % 7 == 0 ? 0 : rnd.nextDouble() * 3;
      PartitionStats p = parts[i < 100 ? 0 : i < 101 ? 1 : 2];
      p.numFeatures = f;
      p.add(x[i], y[i], w[i]);
    }
    DatasetSummary s = DatasetSummary.of(parts, "featuresCol 'features'");

    double sw = 0;
    double sw2 = 0;
    double[] mean = new double[f];
    double[] classWeights = new double[6];
    long[] classCounts = new long[6];
    for (int i = 0; i < n; i++) {
      sw += w[i];
      sw2 += w[i] * w[i];
      classWeights[y[i]] += w[i];
      classCounts[y[i]]++;
      for (int j = 0; j < f; j++) {
        mean[j] += w[i] * x[i][j];
      }
    }
    for (int j = 0; j < f; j++) {
      mean[j] /= sw;
      double ss = 0;
      for (int i = 0; i < n; i++) {
        ss += w[i] * (x[i][j] - mean[j]) * (x[i][j] - mean[j]);
      }
      double std = Math.sqrt(ss / (sw - sw2 / sw));
      assertEquals(mean[j], s.mean()[j], 1e-12 * Math.abs(mean[j]));
      assertEquals(std, s.std()[j], 1e-10 * std);
    }
    assertEquals(n, s.numRows());
    assertEquals(sw, s.weightSum(), 1e-12 * sw);
    assertEquals(6, s.labelCount(), "largest label + 1, not the grown array length");
    assertArrayEquals(classCounts, s.classCounts());
    assertArrayEquals(classWeights, s.classWeights(), 1e-12);
    assertArrayEquals(new long[] {100, 1, 399}, s.partitionRows());
    assertArrayEquals(new long[] {0, 100, 101}, s.partitionOffsets());
  }
}
