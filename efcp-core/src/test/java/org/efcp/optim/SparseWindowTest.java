package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class SparseWindowTest {

  /** The window's vectors, kept densely by the test (float32 values widened to double). */
  private static double[][] fill(SparseWindow window, Random rnd, int inserts) {
    int m = window.capacity();
    int d = window.dimension();
    int k = window.maxEntries();
    double[][] dense = new double[m][d];
    for (int t = 0; t < inserts; t++) {
      int nnz = t % 5 == 4 ? 0 : 1 + rnd.nextInt(k); // some empty vectors, mostly partial ones
      SparseVector v = MfacReference.randomSparse(rnd, d, nnz, 1.0);
      int slot = window.insert(v);
      assertEquals(t % m, slot);
      dense[slot] = MfacReference.toDense(v);
    }
    return dense;
  }

  /** Σ_i x[i] v[i] over ascending i, skipping zero terms: the order in which the window sums. */
  private static double referenceDot(double[] x, double[] v) {
    double s = 0.0;
    for (int i = 0; i < x.length; i++) {
      if (x[i] != 0.0 && v[i] != 0.0) {
        s += x[i] * v[i];
      }
    }
    return s;
  }

  /** A sparse vector sharing about half of its support with each of the given rows. */
  private static SparseVector overlapping(Random rnd, double[][] rows, int d) {
    TreeSet<Integer> support = new TreeSet<>();
    for (double[] row : rows) {
      for (int i = 0; i < d; i++) {
        if (row[i] != 0.0 && rnd.nextBoolean()) {
          support.add(i);
        }
      }
    }
    for (int extra = 0; extra < 10; extra++) {
      support.add(rnd.nextInt(d));
    }
    int[] idx = support.stream().mapToInt(Integer::intValue).toArray();
    float[] val = new float[idx.length];
    for (int q = 0; q < idx.length; q++) {
      val[q] = (float) rnd.nextGaussian();
    }
    return new SparseVector(d, idx, val);
  }

  private static void assertDotsMatch(SparseWindow window, double[][] dense, CompressedVector v) {
    double[] vd = MfacReference.toDense(v);
    double[] got = new double[window.capacity()];
    window.dots(v, got);
    for (int j = 0; j < got.length; j++) {
      assertEquals(referenceDot(dense[j], vd), got[j], 0.0, "slot " + j);
    }
  }

  @Test
  void dotsEqualDenseReferenceForSparseDenseAndOtherVectors() {
    Random rnd = new Random(1);
    SparseWindow window = new SparseWindow(7, 300, 40);
    double[][] dense = fill(window, rnd, 12);
    for (int trial = 0; trial < 5; trial++) { // repeated calls also prove the support scratch is cleared
      SparseVector v = overlapping(rnd, dense, 300);
      assertDotsMatch(window, dense, v);
      assertDotsMatch(window, dense, new DenseVector(MfacReference.toDense(v)));
      double[] vd = MfacReference.toDense(v);
      assertDotsMatch(window, dense, new CompressedVector() {
        @Override
        public int dimension() {
          return 300;
        }

        @Override
        public void toDense(double[] out) {
          System.arraycopy(vd, 0, out, 0, 300);
        }

        @Override
        public void addTo(double[] acc, double alpha) {
          throw new AssertionError("not used by dots");
        }
      });
    }
  }

  @Test
  void parallelDotsEqualSerialReference() {
    Random rnd = new Random(2);
    SparseWindow window = new SparseWindow(64, 100_000, 4096); // m·k well above the parallel threshold
    double[][] dense = fill(window, rnd, 64);
    assertDotsMatch(window, dense, overlapping(rnd, Arrays.copyOf(dense, 8), 100_000));
  }

  @Test
  void addCombinationEqualsSlotOrderedReferenceForAnyChunking() {
    Random rnd = new Random(3);
    int m = 40;
    int d = 200_000; // above two parallel chunks
    SparseWindow window = new SparseWindow(m, d, 5000);
    double[][] dense = fill(window, rnd, 57);
    double[] coef = MfacReference.gaussian(rnd, m, 1.0);
    coef[3] = 0.0;
    coef[17] = 0.0;
    double[] start = MfacReference.gaussian(rnd, d, 0.1);

    double[] expected = start.clone();
    for (int j = 0; j < m; j++) {
      if (coef[j] != 0.0) {
        for (int i = 0; i < d; i++) {
          if (dense[j][i] != 0.0) {
            expected[i] += coef[j] * dense[j][i];
          }
        }
      }
    }
    double[] parallel = start.clone();
    window.addCombination(coef, parallel);
    assertArrayEquals(expected, parallel);

    double[] whole = start.clone();
    window.addCombinationRange(coef, whole, 0, d);
    assertArrayEquals(expected, whole);

    double[] pieces = start.clone();
    int[] cuts = {0, 1, 777, 40_000, 40_001, 123_456, 199_999, d};
    for (int c = 0; c + 1 < cuts.length; c++) {
      window.addCombinationRange(coef, pieces, cuts[c], cuts[c + 1]);
    }
    assertArrayEquals(expected, pieces);
  }

  @Test
  void overwrittenSlotsForgetLongerOldVectors() {
    SparseWindow window = new SparseWindow(2, 10, 4);
    window.insert(new SparseVector(10, new int[] {1, 3, 5, 7}, new float[] {1, 1, 1, 1}));
    window.insert(new SparseVector(10, new int[] {0}, new float[] {2}));
    assertEquals(0, window.nextSlot());
    assertEquals(0, window.insert(new SparseVector(10, new int[] {5}, new float[] {3})));
    assertEquals(3, window.insertCount());
    double[] out = new double[2];
    window.dots(new DenseVector(new double[] {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}), out);
    assertArrayEquals(new double[] {3, 2}, out);
    double[] acc = new double[10];
    window.addCombination(new double[] {1, 1}, acc);
    assertArrayEquals(new double[] {2, 0, 0, 0, 0, 3, 0, 0, 0, 0}, acc);
  }

  @Test
  void resetEmptiesEverySlot() {
    Random rnd = new Random(4);
    SparseWindow window = new SparseWindow(3, 50, 10);
    fill(window, rnd, 4);
    window.reset();
    assertEquals(0, window.insertCount());
    assertEquals(0, window.nextSlot());
    double[] out = new double[3];
    window.dots(new DenseVector(MfacReference.gaussian(rnd, 50, 1.0)), out);
    assertArrayEquals(new double[3], out);
    // 3 slots × (10 float32 values + 10 chars of low index bits + 2 int32 starts of the single block)
    assertEquals(3L * (10 * 4 + 10 * 2 + 2 * 4), window.memoryBytes());
  }

  /** Checks dots (sparse and dense v) and addCombination (parallel and in odd pieces) against the dense rows. */
  private static void assertMatchesDense(SparseWindow window, double[][] dense, Random rnd) {
    int m = window.capacity();
    int d = window.dimension();
    SparseVector v = overlapping(rnd, dense, d);
    assertDotsMatch(window, dense, v);
    assertDotsMatch(window, dense, new DenseVector(MfacReference.gaussian(rnd, d, 1.0)));
    double[] coef = MfacReference.gaussian(rnd, m, 1.0);
    double[] expected = new double[d];
    for (int j = 0; j < m; j++) {
      for (int i = 0; i < d; i++) {
        if (dense[j][i] != 0.0) {
          expected[i] += coef[j] * dense[j][i];
        }
      }
    }
    double[] parallel = new double[d];
    window.addCombination(coef, parallel);
    assertArrayEquals(expected, parallel);
    double[] pieces = new double[d];
    int[] cuts = {0, 1, d / 3, d / 3 + 1, d - 1, d};
    for (int c = 0; c + 1 < cuts.length; c++) {
      window.addCombinationRange(coef, pieces, cuts[c], cuts[c + 1]);
    }
    assertArrayEquals(expected, pieces);
  }

  private static SparseVector vector(int d, int... indices) {
    float[] val = new float[indices.length];
    for (int q = 0; q < val.length; q++) {
      val[q] = 1.5f + q;
    }
    return new SparseVector(d, indices, val);
  }

  @Test
  void indicesAtBlockBoundariesFarApartAndAtBothEndsRoundTrip() {
    int d = 500_000; // 8 blocks of 65,536 coordinates, the last one partial
    SparseWindow window = new SparseWindow(3, d, 6);
    SparseVector[] rows = {
        vector(d, 0, 65_535, 65_536, 131_071, 400_000, d - 1), // both sides of two block boundaries
        vector(d, 65_534, 196_608, 196_609, d - 1), // skips blocks 0, 2 and 4 to 6
        vector(d, d - 1)};
    double[][] dense = new double[3][];
    for (int j = 0; j < 3; j++) {
      window.insert(rows[j]);
      dense[j] = MfacReference.toDense(rows[j]);
    }
    assertMatchesDense(window, dense, new Random(5));
    // 3 slots × (6 float32 values + 6 chars + 9 int32 block starts)
    assertEquals(3L * (6 * 4 + 6 * 2 + 9 * 4), window.memoryBytes());
  }

  @Test
  void aRowOfAllDCoordinatesRoundTrips() {
    int d = 70_000;
    SparseWindow window = new SparseWindow(2, d, d);
    int[] all = new int[d];
    for (int i = 0; i < d; i++) {
      all[i] = i;
    }
    SparseVector full = vector(d, all);
    SparseVector far = vector(d, 3, 69_999);
    window.insert(full);
    window.insert(far);
    assertMatchesDense(window, new double[][] {MfacReference.toDense(full), MfacReference.toDense(far)},
        new Random(6));
  }

  @Test
  void shorterRowReinsertedIntoASlotForgetsTheOldOne() {
    int d = 300_000;
    SparseWindow window = new SparseWindow(1, d, 4);
    window.insert(vector(d, 70_000, 140_000, 210_000, 280_000)); // one entry in each of blocks 1 to 4
    SparseVector shorter = vector(d, 5, 70_100);
    window.insert(shorter);
    assertMatchesDense(window, new double[][] {MfacReference.toDense(shorter)}, new Random(7));
    SparseVector noEscapes = vector(d, 10, 20);
    window.insert(noEscapes);
    assertMatchesDense(window, new double[][] {MfacReference.toDense(noEscapes)}, new Random(8));
  }

  @Test
  void rejectsVectorsItCannotStore() {
    SparseWindow window = new SparseWindow(3, 8, 2);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> window.insert(new DenseVector(new double[8])))
        .getMessage().startsWith("c"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> window.insert(new SparseVector(9, new int[] {0}, new float[] {1}))).getMessage().startsWith("c"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> window.insert(new SparseVector(8, new int[] {0, 1, 2}, new float[] {1, 1, 1}))).getMessage()
        .startsWith("c"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> window.dots(new DenseVector(new double[7]),
        new double[3])).getMessage().startsWith("v"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> window.addCombination(new double[3],
        new double[7])).getMessage().startsWith("acc"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new SparseWindow(3, 8, 9)).getMessage()
        .startsWith("k"));
    assertEquals(0, window.insertCount());
  }
}
