package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.math.BigInteger;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LowRankCompressorTest {

  private static final BigInteger TWO64 = BigInteger.ONE.shiftLeft(64);
  private static final BigInteger GOLDEN = new BigInteger("9E3779B97F4A7C15", 16);

  /** §13's splitmix64 recipe in unsigned BigInteger arithmetic mod 2^64 (independent of the Java longs). */
  private static double recipeQ0(long seed, int l, int rank, int i, int j) {
    BigInteger base = mix(BigInteger.valueOf(seed).mod(TWO64).multiply(GOLDEN).add(BigInteger.valueOf(l + 1)).mod(TWO64));
    BigInteger n = BigInteger.valueOf((long) i * rank + j);
    BigInteger z = mix(base.add(n.add(BigInteger.ONE).multiply(GOLDEN)).mod(TWO64));
    return 2 * Math.scalb(z.shiftRight(11).doubleValue(), -53) - 1;
  }

  private static BigInteger mix(BigInteger z) {
    z = z.xor(z.shiftRight(30)).multiply(new BigInteger("BF58476D1CE4E5B9", 16)).mod(TWO64);
    z = z.xor(z.shiftRight(27)).multiply(new BigInteger("94D049BB133111EB", 16)).mod(TWO64);
    return z.xor(z.shiftRight(31));
  }

  /** The explicit one-step formulas with plain loops: P = ortho(A Q), Q' = Aᵀ P, C = P Q'ᵀ. */
  private record Step(double[][] p, double[][] q, double[][] c) {}

  private static Step explicitStep(double[][] a, double[][] q) {
    int rows = a.length;
    int cols = a[0].length;
    int rank = q[0].length;
    double[][] p = new double[rows][rank];
    for (int r = 0; r < rows; r++) {
      for (int j = 0; j < rank; j++) {
        for (int c = 0; c < cols; c++) {
          p[r][j] += a[r][c] * q[c][j];
        }
      }
    }
    for (int i = 0; i < rank; i++) {
      double norm = 0;
      for (int r = 0; r < rows; r++) {
        norm += p[r][i] * p[r][i];
      }
      norm = Math.sqrt(norm);
      for (int r = 0; r < rows; r++) {
        p[r][i] /= norm + 1e-8;
      }
      for (int j = i + 1; j < rank; j++) {
        double dot = 0;
        for (int r = 0; r < rows; r++) {
          dot += p[r][i] * p[r][j];
        }
        for (int r = 0; r < rows; r++) {
          p[r][j] -= dot * p[r][i];
        }
      }
    }
    double[][] qn = new double[cols][rank];
    for (int c = 0; c < cols; c++) {
      for (int j = 0; j < rank; j++) {
        for (int r = 0; r < rows; r++) {
          qn[c][j] += a[r][c] * p[r][j];
        }
      }
    }
    double[][] cm = new double[rows][cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        for (int j = 0; j < rank; j++) {
          cm[r][c] += p[r][j] * qn[c][j];
        }
      }
    }
    return new Step(p, qn, cm);
  }

  private static double[][] recipeQ0Matrix(long seed, int l, int cols, int rank) {
    double[][] q = new double[cols][rank];
    for (int i = 0; i < cols; i++) {
      for (int j = 0; j < rank; j++) {
        q[i][j] = recipeQ0(seed, l, rank, i, j);
      }
    }
    return q;
  }

  private static double[][] segment(double[] a, TensorLayout layout, int l) {
    int rows = layout.rows(l);
    int cols = layout.cols(l);
    double[][] m = new double[rows][cols];
    for (int r = 0; r < rows; r++) {
      for (int c = 0; c < cols; c++) {
        m[r][c] = a[layout.offset(l) + r * cols + c];
      }
    }
    return m;
  }

  private static void assertRowMajorClose(double[][] expected, double[] actual, double tol) {
    int cols = expected[0].length;
    assertEquals(expected.length * cols, actual.length);
    double scale = 0;
    for (double[] row : expected) {
      for (double v : row) {
        scale = Math.max(scale, Math.abs(v));
      }
    }
    for (int r = 0; r < expected.length; r++) {
      for (int c = 0; c < cols; c++) {
        assertEquals(expected[r][c], actual[r * cols + c], tol * Math.max(scale, 1e-300), "[" + r + "][" + c + "]");
      }
    }
  }

  private static double[] gaussian(Random rnd, int d) {
    double[] g = new double[d];
    for (int i = 0; i < d; i++) {
      g[i] = rnd.nextGaussian();
    }
    return g;
  }

  private static double[] dense(CompressedVector c) {
    double[] out = new double[c.dimension()];
    c.toDense(out);
    return out;
  }

  private static final TensorLayout MIXED = TensorLayout.parse("3,4x5,6x2x3,2");

  @Test
  void initialQFollowsTheSplitmixRecipeCountingEveryTensor() {
    for (long seed : new long[] {0, 17, -123456789L}) {
      LowRankCompressor lr = new LowRankCompressor(MIXED, 3, seed);
      for (int l : new int[] {1, 2}) {
        int cols = MIXED.cols(l);
        double[] q0 = lr.warmStart(l);
        for (int i = 0; i < cols; i++) {
          for (int j = 0; j < 3; j++) {
            double expected = recipeQ0(seed, l, 3, i, j);
            assertEquals(expected, q0[i * 3 + j], "seed " + seed + " l " + l + " [" + i + "][" + j + "]");
            assertEquals(expected, LowRankCompressor.initialQ(seed, l, 3, i, j));
            assertTrue(expected >= -1 && expected < 1);
          }
        }
      }
    }
    // Tensor numbers and seeds give different streams.
    assertNotEquals(recipeQ0(17, 1, 3, 0, 0), recipeQ0(17, 2, 3, 0, 0));
    assertNotEquals(recipeQ0(17, 1, 3, 0, 0), recipeQ0(18, 1, 3, 0, 0));
  }

  @Test
  void oneCompressEqualsTheExplicitFormulas() {
    Random rnd = new Random(21);
    int rank = 2;
    long seed = 17;
    LowRankCompressor lr = new LowRankCompressor(MIXED, rank, seed);
    double[] a = gaussian(rnd, MIXED.dimension());
    LowRankVector v = lr.compress(a);
    double[] c = dense(v);
    for (int l : new int[] {1, 2}) {
      Step s = explicitStep(segment(a, MIXED, l), recipeQ0Matrix(seed, l, MIXED.cols(l), rank));
      assertRowMajorClose(s.p(), v.p(l), 1e-12);
      assertRowMajorClose(s.q(), v.q(l), 1e-12);
      assertRowMajorClose(s.q(), lr.warmStart(l), 1e-12);
      assertRowMajorClose(s.c(), java.util.Arrays.copyOfRange(c, MIXED.offset(l), MIXED.offset(l) + MIXED.size(l)), 1e-12);
      assertNull(v.raw(l));
    }
  }

  @Test
  void secondCompressStartsFromThePreviousQ() {
    Random rnd = new Random(4);
    TensorLayout layout = TensorLayout.parse("7x9");
    int rank = 3;
    LowRankCompressor lr = new LowRankCompressor(layout, rank, 5);
    double[] a1 = gaussian(rnd, 63);
    double[] a2 = gaussian(rnd, 63);
    LowRankVector v1 = lr.compress(a1);
    assertArrayEquals(v1.q(0), lr.warmStart(0));
    LowRankVector v2 = lr.compress(a2);
    Step s1 = explicitStep(segment(a1, layout, 0), recipeQ0Matrix(5, 0, 9, rank));
    Step s2 = explicitStep(segment(a2, layout, 0), s1.q());
    assertRowMajorClose(s2.p(), v2.p(0), 1e-11);
    assertRowMajorClose(s2.q(), v2.q(0), 1e-11);
    assertRowMajorClose(s2.c(), dense(v2), 1e-11);
    // A fresh compressor on a2 alone (Q0 start) gives a different result.
    assertNotEquals(dense(new LowRankCompressor(layout, rank, 5).compress(a2))[0], dense(v2)[0]);
  }

  @Test
  void gramSchmidtColumnNormIsNOverNPlusEpsilon() {
    Random rnd = new Random(9);
    TensorLayout layout = TensorLayout.parse("3x4");
    double[] a = gaussian(rnd, 12);
    for (int i = 0; i < 12; i++) {
      a[i] *= 1e-9;
    }
    LowRankVector v = new LowRankCompressor(layout, 1, 2).compress(a);
    double[][] q0 = recipeQ0Matrix(2, 0, 4, 1);
    double n = 0;
    for (int r = 0; r < 3; r++) {
      double s = 0;
      for (int c = 0; c < 4; c++) {
        s += a[r * 4 + c] * q0[c][0];
      }
      n += s * s;
    }
    n = Math.sqrt(n);
    double pNorm = Math.sqrt(v.p(0)[0] * v.p(0)[0] + v.p(0)[1] * v.p(0)[1] + v.p(0)[2] * v.p(0)[2]);
    assertEquals(n / (n + 1e-8), pNorm, 1e-12);
    assertTrue(pNorm < 0.6, "the epsilon visibly shrinks a tiny column: " + pNorm);
  }

  @Test
  void oneDimensionalTensorsPassThroughAndGetNoErrorFeedback() {
    Random rnd = new Random(13);
    int d = MIXED.dimension();
    ErrorFeedback ef = new ErrorFeedback(new LowRankCompressor(MIXED, 1, 3), d);
    for (int t = 0; t < 5; t++) {
      double[] g = gaussian(rnd, d);
      double[] xiBefore = ef.error().clone();
      LowRankVector v = (LowRankVector) ef.compress(g);
      for (int l : new int[] {0, 3}) {
        int off = MIXED.offset(l);
        assertArrayEquals(java.util.Arrays.copyOfRange(g, off, off + MIXED.size(l)), v.raw(l));
        assertNull(v.p(l));
        for (int i = 0; i < MIXED.size(l); i++) {
          assertEquals(0.0, ef.error()[off + i]);
        }
      }
      // Matrix tensors: xi = (xi_prev + g) − C.
      double[] c = dense(v);
      for (int i = MIXED.offset(1); i < MIXED.offset(3); i++) {
        assertEquals(xiBefore[i] + g[i] - c[i], ef.error()[i], 1e-12);
      }
      assertTrue(Math.abs(ef.error()[MIXED.offset(1)]) > 0);
    }
  }

  /**
   * With rank > min(rows, cols) the surplus columns are not near zero: the 1e-8 leaves the earlier columns of
   * norm n/(n+1e-8), so a residual of order 1e-8 survives the projections and is normalised to order one. The
   * result still follows the explicit formulas (to the cancellation in those columns).
   */
  @Test
  void rankAboveTheMatrixSizeDoesNotCrashAndFollowsTheFormulas() {
    Random rnd = new Random(1);
    TensorLayout layout = TensorLayout.parse("2x3");
    double[] a = gaussian(rnd, 6);
    LowRankVector v = new LowRankCompressor(layout, 5, 8).compress(a);
    for (double x : v.p(0)) {
      assertTrue(Double.isFinite(x));
    }
    Step s = explicitStep(segment(a, layout, 0), recipeQ0Matrix(8, 0, 3, 5));
    assertRowMajorClose(s.p(), v.p(0), 1e-5);
    assertRowMajorClose(s.c(), dense(v), 1e-5);
  }

  @Test
  void fourDimensionalTensorIsViewedAsRowsByTheRest() {
    Random rnd = new Random(2);
    double[] a = gaussian(rnd, 48);
    LowRankVector conv = new LowRankCompressor(TensorLayout.parse("4x3x2x2"), 2, 6).compress(a);
    LowRankVector matrix = new LowRankCompressor(TensorLayout.parse("4x12"), 2, 6).compress(a);
    assertEquals(4 * 2, conv.p(0).length);
    assertEquals(12 * 2, conv.q(0).length);
    assertArrayEquals(matrix.p(0), conv.p(0));
    assertArrayEquals(matrix.q(0), conv.q(0));
    double[][] a2 = new double[4][12];
    for (int r = 0; r < 4; r++) {
      System.arraycopy(a, r * 12, a2[r], 0, 12);
    }
    Step s = explicitStep(a2, recipeQ0Matrix(6, 0, 12, 2));
    assertRowMajorClose(s.c(), dense(conv), 1e-12);
  }

  @Test
  void allZeroAccumulatorCollapsesQForGood() {
    TensorLayout layout = TensorLayout.parse("3x3");
    LowRankCompressor lr = new LowRankCompressor(layout, 2, 1);
    lr.compress(new double[9]);
    for (double x : lr.warmStart(0)) {
      assertEquals(0.0, x);
    }
    double[] c = dense(lr.compress(gaussian(new Random(3), 9)));
    for (double x : c) {
      assertEquals(0.0, x);
    }
  }

  @Test
  void resetRestoresTheInitialQ() {
    Random rnd = new Random(6);
    LowRankCompressor lr = new LowRankCompressor(MIXED, 2, 77);
    double[] q0 = lr.warmStart(2);
    lr.compress(gaussian(rnd, MIXED.dimension()));
    assertNotEquals(q0[0], lr.warmStart(2)[0]);
    lr.reset();
    assertArrayEquals(q0, lr.warmStart(2));
  }

  @Test
  void serialisedMidRunContinuesBitIdentically() throws Exception {
    Random rnd = new Random(31);
    int d = MIXED.dimension();
    ErrorFeedback ef = new ErrorFeedback(new LowRankCompressor(MIXED, 2, 99), d);
    for (int t = 0; t < 3; t++) {
      ef.compress(gaussian(rnd, d));
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(ef);
    }
    ErrorFeedback copy;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      copy = (ErrorFeedback) in.readObject();
    }
    for (int t = 0; t < 3; t++) {
      double[] g = gaussian(rnd, d);
      assertArrayEquals(dense(ef.compress(g)), dense(copy.compress(g)));
      assertArrayEquals(ef.error(), copy.error());
    }
  }

  @Test
  void memoryIsTheWarmStartQs() {
    assertEquals(8L * (5 * 3 + 6 * 3), new LowRankCompressor(MIXED, 3, 0).memoryBytes());
  }

  @Test
  void rejectsBadArguments() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LowRankCompressor(MIXED, 0, 0));
    assertTrue(e.getMessage().startsWith("rank: "), e.getMessage());
    LowRankCompressor lr = new LowRankCompressor(MIXED, 1, 0);
    e = assertThrows(IllegalArgumentException.class, () -> lr.compress(new double[3]));
    assertTrue(e.getMessage().startsWith("a: "), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> lr.warmStart(0));
    assertTrue(e.getMessage().startsWith("l: "), e.getMessage());
  }
}
