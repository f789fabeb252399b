package org.efcp.ml.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Random;
import org.junit.jupiter.api.Test;

class FixedOrderSumTest {

  @Test
  void equalsMergingGradientPartialLeavesBitForBitForEveryPartitionCount() {
    Random r = new Random(3);
    for (int parts = 1; parts <= 9; parts++) {
      int d = 2048 * 2 + 37; // more than one block, and a partial last block
      float[][] shares = new float[parts][d];
      double[] loss = new double[parts];
      GradientPartial merged = GradientPartial.empty();
      for (int p = parts - 1; p >= 0; p--) {
        for (int i = 0; i < d; i++) {
          shares[p][i] = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(9) - 4));
        }
        loss[p] = r.nextDouble() * 1e3;
        merged.merge(GradientPartial.leaf(p, parts, shares[p].clone(), loss[p], 1, 1));
      }
      FixedOrderSum sum = new FixedOrderSum(parts);
      double[] out = new double[d];
      sum.sum(shares, out);
      assertArrayEquals(merged.gradient(), out, 0.0, parts + " partitions");
      assertEquals(merged.loss(), sum.sum(loss), 0.0);
    }
  }

  @Test
  void refusesAnotherNumberOfShares() {
    assertThrows(IllegalArgumentException.class, () -> new FixedOrderSum(2).sum(new float[3][1], new double[1]));
    assertThrows(IllegalArgumentException.class, () -> new FixedOrderSum(0));
  }
}
