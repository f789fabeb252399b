package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

class ErrorFeedbackTest {

  private static double[] gaussian(Random rnd, int d, double scale) {
    double[] g = new double[d];
    for (int i = 0; i < d; i++) {
      g[i] = scale * rnd.nextGaussian();
    }
    return g;
  }

  private static double[] dense(CompressedVector c) {
    double[] out = new double[c.dimension()];
    c.toDense(out);
    return out;
  }

  @Test
  void topKPlusErrorEqualsTheAccumulatorBitwise() {
    int d = 2000;
    ErrorFeedback ef = new ErrorFeedback(new TopKCompressor(d, 37), d);
    Random rnd = new Random(3);
    for (int t = 0; t < 50; t++) {
      double[] g = gaussian(rnd, d, 1 + t);
      double[] gCopy = g.clone();
      double[] a = new double[d];
      double[] before = ef.error();
      for (int i = 0; i < d; i++) {
        a[i] = before[i] + g[i];
      }
      SparseVector c = (SparseVector) ef.compress(g);
      assertArrayEquals(gCopy, g, "g must not be modified");
      double[] cd = dense(c);
      double[] xi = ef.error();
      for (int i = 0; i < d; i++) {
        assertEquals(Double.doubleToRawLongBits(a[i]), Double.doubleToRawLongBits(cd[i] + xi[i]), "entry " + i);
      }
      // Off the support, xi is the accumulator itself; on it, the float32 rounding residual.
      int q = 0;
      for (int i = 0; i < d; i++) {
        if (q < c.nnz() && c.indices()[q] == i) {
          assertEquals(a[i] - (double) (float) a[i], xi[i]);
          q++;
        } else {
          assertEquals(Double.doubleToRawLongBits(a[i]), Double.doubleToRawLongBits(xi[i]));
        }
      }
    }
  }

  @Test
  void compressedSumPlusErrorEqualsGradientSum() {
    int d = 500;
    ErrorFeedback ef = new ErrorFeedback(new TopKCompressor(d, 5), d);
    Random rnd = new Random(11);
    double[] sumC = new double[d];
    double[] sumG = new double[d];
    for (int t = 0; t < 200; t++) {
      double[] g = gaussian(rnd, d, 1);
      ef.compress(g).addTo(sumC, 1.0);
      for (int i = 0; i < d; i++) {
        sumG[i] += g[i];
      }
      double[] xi = ef.error();
      for (int i = 0; i < d; i++) {
        assertEquals(sumG[i], sumC[i] + xi[i], 1e-11, "step " + t + " entry " + i);
      }
    }
    // The error stays bounded: Top-k with EF does not let the residual grow without bound on this data.
    double maxXi = 0;
    for (double v : ef.error()) {
      maxXi = Math.max(maxXi, Math.abs(v));
    }
    assertTrue(maxXi > 0 && maxXi < 200, "max |xi| = " + maxXi);
  }

  @Test
  void float32RoundingPlusErrorEqualsTheAccumulatorBitwise() {
    int d = 300;
    ErrorFeedback ef = new ErrorFeedback(new Float32Compressor(d), d);
    Random rnd = new Random(5);
    for (int t = 0; t < 10; t++) {
      double[] g = gaussian(rnd, d, 1);
      double[] a = new double[d];
      for (int i = 0; i < d; i++) {
        a[i] = ef.error()[i] + g[i];
      }
      double[] c = ((DenseVector) ef.compress(g)).values();
      for (int i = 0; i < d; i++) {
        assertEquals((double) (float) a[i], c[i]);
        assertEquals(Double.doubleToRawLongBits(a[i]), Double.doubleToRawLongBits(c[i] + ef.error()[i]));
        assertTrue(Math.abs(ef.error()[i]) <= Math.ulp((float) a[i]) / 2);
      }
    }
  }

  @Test
  void resetZeroesTheErrorAndRestartsLikeAFreshInstance() {
    int d = 100;
    ErrorFeedback used = new ErrorFeedback(new TopKCompressor(d, 3), d);
    Random rnd = new Random(8);
    for (int t = 0; t < 5; t++) {
      used.compress(gaussian(rnd, d, 1));
    }
    assertNotEquals(0.0, maxAbs(used.error()));
    used.reset();
    assertEquals(0.0, maxAbs(used.error()));
    double[] g = gaussian(rnd, d, 1);
    ErrorFeedback fresh = new ErrorFeedback(new TopKCompressor(d, 3), d);
    assertArrayEquals(dense(fresh.compress(g)), dense(used.compress(g)));
    assertArrayEquals(fresh.error(), used.error());
  }

  @Test
  void memoryIsTheErrorBufferPlusTheInnerState() {
    LowRankCompressor lowRank = new LowRankCompressor(TensorLayout.parse("4x5,3"), 2, 1);
    ErrorFeedback ef = new ErrorFeedback(lowRank, 23);
    assertSame(lowRank, ef.inner());
    assertEquals(8 * 23 + 8 * 5 * 2, ef.memoryBytes());
    assertEquals(8 * 10, new ErrorFeedback(new TopKCompressor(10, 2), 10).memoryBytes());
  }

  @Test
  void rejectsBadArguments() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new ErrorFeedback(new TopKCompressor(4, 1), 0));
    assertTrue(e.getMessage().startsWith("d: "), e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new ErrorFeedback(new TopKCompressor(4, 1), 4).compress(new double[5]));
    assertTrue(e.getMessage().startsWith("g: "), e.getMessage());
  }

  private static double maxAbs(double[] x) {
    double m = 0;
    for (double v : x) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }
}
