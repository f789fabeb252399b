package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DenseWindowTest {

  /** Float-representable random values, so the float32 window holds them exactly. */
  private static double[] randomVector(Random rnd, int d) {
    double[] v = new double[d];
    for (int i = 0; i < d; i++) {
      v[i] = (float) rnd.nextGaussian();
    }
    return v;
  }

  private static SparseVector randomSparse(Random rnd, int d, int k) {
    int[] idx = rnd.ints(0, d).distinct().limit(k).sorted().toArray();
    float[] val = new float[k];
    for (int q = 0; q < k; q++) {
      val[q] = (float) rnd.nextGaussian();
    }
    return new SparseVector(d, idx, val);
  }

  private static double[] dense(CompressedVector c) {
    double[] v = new double[c.dimension()];
    c.toDense(v);
    return v;
  }

  /** A representation the window knows only through the interface (exercises the toDense path). */
  private static CompressedVector opaque(double[] values) {
    return new CompressedVector() {
      @Override
      public int dimension() {
        return values.length;
      }

      @Override
      public void toDense(double[] out) {
        System.arraycopy(values, 0, out, 0, values.length);
      }

      @Override
      public void addTo(double[] acc, double alpha) {
        for (int i = 0; i < values.length; i++) {
          acc[i] += alpha * values[i];
        }
      }
    };
  }

  private static double plainDot(double[] x, double[] v) {
    double s = 0.0;
    for (int i = 0; i < x.length; i++) {
      s += x[i] * v[i];
    }
    return s;
  }

  @Test
  void dotsMatchPlainDoubleLoopForEveryRepresentation() {
    Random rnd = new Random(1);
    int m = 5;
    int d = 203;
    DenseWindow w = new DenseWindow(m, d);
    double[][] stored = new double[m][];
    for (int j = 0; j < m; j++) {
      stored[j] = j % 2 == 0 ? randomVector(rnd, d) : dense(randomSparse(rnd, d, 17));
      w.insert(j % 2 == 0 ? new DenseVector(stored[j]) : sparseOf(stored[j]));
    }
    double[] v = randomVector(rnd, d);
    SparseVector sv = randomSparse(rnd, d, 23);
    double[] out = new double[m];
    for (CompressedVector probe : new CompressedVector[] {new DenseVector(v), sv, opaque(v)}) {
      w.dots(probe, out);
      double[] pv = dense(probe);
      for (int j = 0; j < m; j++) {
        double ref = plainDot(stored[j], pv);
        assertEquals(ref, out[j], 1e-12 * (1 + Math.abs(ref)), "slot " + j);
      }
    }
  }

  /** The SparseVector with the non-zeros of {@code v}. */
  private static SparseVector sparseOf(double[] v) {
    int[] idx = java.util.stream.IntStream.range(0, v.length).filter(i -> v[i] != 0).toArray();
    float[] val = new float[idx.length];
    for (int q = 0; q < idx.length; q++) {
      val[q] = (float) v[idx[q]];
    }
    return new SparseVector(v.length, idx, val);
  }

  @Test
  void addCombinationEqualsSlotOrderReferenceBitwise() {
    Random rnd = new Random(2);
    int m = 11;
    int d = 5003;
    DenseWindow w = new DenseWindow(m, d);
    double[][] stored = new double[m][];
    for (int j = 0; j < m; j++) {
      stored[j] = randomVector(rnd, d);
      w.insert(new DenseVector(stored[j]));
    }
    double[] coef = new double[m];
    for (int j = 0; j < m; j++) {
      coef[j] = j % 3 == 1 ? 0.0 : rnd.nextGaussian();
    }
    double[] acc = randomVector(rnd, d);
    double[] ref = acc.clone();
    for (int j = 0; j < m; j++) {
      if (coef[j] != 0.0) {
        for (int i = 0; i < d; i++) {
          ref[i] += coef[j] * stored[j][i];
        }
      }
    }
    w.addCombination(coef, acc);
    assertArrayEquals(ref, acc);
  }

  @Test
  void resultsDoNotDependOnHowRangesAreSplit() {
    Random rnd = new Random(3);
    int m = 9;
    int d = 70_001;
    DenseWindow w = new DenseWindow(m, d);
    for (int j = 0; j < m; j++) {
      w.insert(new DenseVector(randomVector(rnd, d)));
    }
    double[] coef = new double[m];
    for (int j = 0; j < m; j++) {
      coef[j] = rnd.nextGaussian();
    }
    double[] start = randomVector(rnd, d);

    double[] whole = start.clone();
    w.addCombination(coef, whole);
    double[] serial = start.clone();
    w.combineRange(coef, serial, 0, d);
    double[] pieces = start.clone();
    int[] cuts = {0, 1, 777, 2048, 2049, 40_000, d};
    for (int p = 0; p + 1 < cuts.length; p++) {
      w.combineRange(coef, pieces, cuts[p], cuts[p + 1]);
    }
    assertArrayEquals(serial, whole);
    assertArrayEquals(serial, pieces);

    double[] v = randomVector(rnd, d);
    double[] dotsWhole = new double[m];
    w.dots(new DenseVector(v), dotsWhole);
    double[] dotsPieces = new double[m];
    w.dotsRange(v, dotsPieces, 0, 4);
    w.dotsRange(v, dotsPieces, 4, 5);
    w.dotsRange(v, dotsPieces, 5, m);
    assertArrayEquals(dotsPieces, dotsWhole);
    for (int j = 0; j < m; j++) {
      double[] row = new double[m];
      w.dotsRange(v, row, j, j + 1);
      assertEquals(dotsWhole[j], row[j]);
    }
  }

  @Test
  void ringOverwritesTheOldestSlot() {
    int m = 3;
    int d = 4;
    DenseWindow w = new DenseWindow(m, d);
    for (int t = 0; t < 5; t++) {
      assertEquals(t % m, w.nextSlot());
      double[] v = new double[d];
      v[0] = t + 1;
      v[3] = -(t + 1);
      assertEquals(t % m, w.insert(new DenseVector(v)));
      assertEquals(t + 1, w.insertCount());
    }
    // Slot 0 holds vector 3, slot 1 vector 4, slot 2 vector 2 (values t+1).
    double[] out = new double[m];
    w.dots(new DenseVector(new double[] {1, 0, 0, 0}), out);
    assertArrayEquals(new double[] {4, 5, 3}, out);
    w.dots(new DenseVector(new double[] {0, 0, 0, 1}), out);
    assertArrayEquals(new double[] {-4, -5, -3}, out);
  }

  @Test
  void emptySlotsContributeNothing() {
    int m = 4;
    int d = 6;
    DenseWindow w = new DenseWindow(m, d);
    double[] x0 = {1, 2, 3, 4, 5, 6};
    double[] x1 = {-1, 0.5, 0, 0, 2, 1};
    w.insert(new DenseVector(x0));
    w.insert(new DenseVector(x1));
    double[] out = new double[m];
    Arrays.fill(out, Double.NaN);
    w.dots(new DenseVector(new double[] {1, 1, 1, 1, 1, 1}), out);
    assertArrayEquals(new double[] {21, 2.5, 0, 0}, out);

    double[] acc = new double[d];
    w.addCombination(new double[] {2, -1, Double.NaN, 1e300}, acc);
    double[] ref = new double[d];
    for (int i = 0; i < d; i++) {
      ref[i] = 2 * x0[i] - x1[i];
    }
    assertArrayEquals(ref, acc);
  }

  @Test
  void valuesAreStoredAsFloat32() {
    DenseWindow w = new DenseWindow(2, 3);
    w.insert(new DenseVector(new double[] {0.1, 1.0 / 3, 7}));
    double[] out = new double[2];
    w.dots(new DenseVector(new double[] {1, 0, 0}), out);
    assertEquals((double) 0.1f, out[0]);
    w.dots(new DenseVector(new double[] {0, 1, 0}), out);
    assertEquals((double) (1.0f / 3), out[0]);
  }

  @Test
  void sparseInsertReplacesTheWholeRow() {
    int d = 5;
    DenseWindow w = new DenseWindow(1, d);
    w.insert(new DenseVector(new double[] {1, 2, 3, 4, 5}));
    w.insert(new SparseVector(d, new int[] {1, 4}, new float[] {-2, 0.5f}));
    double[] acc = new double[d];
    w.addCombination(new double[] {1}, acc);
    assertArrayEquals(new double[] {0, -2, 0, 0, 0.5}, acc);

    w.insert(opaque(new double[] {9, 8, 7, 6, 5}));
    acc = new double[d];
    w.addCombination(new double[] {1}, acc);
    assertArrayEquals(new double[] {9, 8, 7, 6, 5}, acc);
  }

  @Test
  void resetEmptiesEverySlot() {
    DenseWindow w = new DenseWindow(2, 3);
    w.insert(new DenseVector(new double[] {1, 2, 3}));
    w.insert(new DenseVector(new double[] {4, 5, 6}));
    w.insert(new DenseVector(new double[] {7, 8, 9}));
    w.reset();
    assertEquals(0, w.insertCount());
    assertEquals(0, w.nextSlot());
    w.insert(new DenseVector(new double[] {1, 0, 0}));
    double[] out = new double[2];
    w.dots(new DenseVector(new double[] {1, 1, 1}), out);
    assertArrayEquals(new double[] {1, 0}, out);
    double[] acc = new double[3];
    w.addCombination(new double[] {1, 1}, acc);
    assertArrayEquals(new double[] {1, 0, 0}, acc);
  }

  @Test
  void memoryIsFourBytesPerStoredEntry() {
    DenseWindow w = new DenseWindow(7, 1000);
    assertEquals(28_000L, w.memoryBytes());
    assertEquals(7, w.capacity());
    assertEquals(1000, w.dimension());
  }

  @Test
  void badArgumentsAreRejectedByName() {
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new DenseWindow(0, 3)).getMessage().startsWith("m:"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> new DenseWindow(2, 0)).getMessage().startsWith("d:"));
    DenseWindow w = new DenseWindow(2, 3);
    assertTrue(assertThrows(IllegalArgumentException.class, () -> w.insert(new DenseVector(new double[4])))
        .getMessage().startsWith("c:"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> w.dots(new DenseVector(new double[3]), new double[3]))
        .getMessage().startsWith("out:"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> w.addCombination(new double[3], new double[3]))
        .getMessage().startsWith("coef:"));
    assertTrue(assertThrows(IllegalArgumentException.class, () -> w.addCombination(new double[2], new double[2]))
        .getMessage().startsWith("acc:"));
  }
}
