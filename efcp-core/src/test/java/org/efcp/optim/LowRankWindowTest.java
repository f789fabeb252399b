package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LowRankWindowTest {

  /** Rows < cols, rows > cols, a 1-D tensor, a 3-D tensor and a length-1 tensor. */
  private static final TensorLayout LAYOUT = TensorLayout.parse("3x4,5,6x2,2x3x2,1");

  private static LowRankVector randomVector(Random rnd, TensorLayout layout, int rank) {
    int n = layout.numTensors();
    double[][] p = new double[n][];
    double[][] q = new double[n][];
    double[][] raw = new double[n][];
    for (int l = 0; l < n; l++) {
      if (layout.isMatrix(l)) {
        p[l] = gaussian(rnd, layout.rows(l) * rank);
        q[l] = gaussian(rnd, layout.cols(l) * rank);
      } else {
        raw[l] = gaussian(rnd, layout.size(l));
      }
    }
    return new LowRankVector(layout, rank, p, q, raw);
  }

  private static double[] gaussian(Random rnd, int n) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = rnd.nextGaussian();
    }
    return x;
  }

  private static double[] dense(CompressedVector c) {
    double[] out = new double[c.dimension()];
    c.toDense(out);
    return out;
  }

  private static double dot(double[] x, double[] y) {
    double s = 0;
    for (int i = 0; i < x.length; i++) {
      s += x[i] * y[i];
    }
    return s;
  }

  /** Checks dots and addCombination against the dense reconstructions {@code slots[j]} (null = empty). */
  private static void assertMatchesDense(LowRankWindow w, double[][] slots, LowRankVector query, Random rnd) {
    int m = slots.length;
    int d = w.dimension();
    double[] out = new double[m];
    Arrays.fill(out, Double.NaN);
    w.dots(query, out);
    double[] qd = dense(query);
    for (int j = 0; j < m; j++) {
      if (slots[j] == null) {
        assertEquals(0.0, out[j], "empty slot " + j);
      } else {
        double expected = dot(slots[j], qd);
        assertEquals(expected, out[j], 1e-11 * (1 + Math.abs(expected)), "slot " + j);
      }
    }
    double[] coef = gaussian(rnd, m);
    double[] acc = gaussian(rnd, d);
    double[] expected = acc.clone();
    for (int j = 0; j < m; j++) {
      if (slots[j] != null) {
        for (int i = 0; i < d; i++) {
          expected[i] += coef[j] * slots[j][i];
        }
      }
    }
    w.addCombination(coef, acc);
    for (int i = 0; i < d; i++) {
      assertEquals(expected[i], acc[i], 1e-11 * (1 + Math.abs(expected[i])), "entry " + i);
    }
  }

  @Test
  void dotsAndCombinationEqualDenseReconstructionsInRingOrder() {
    Random rnd = new Random(17);
    int m = 4;
    int rank = 2;
    LowRankWindow w = new LowRankWindow(m, LAYOUT, rank);
    double[][] slots = new double[m][];
    for (int t = 0; t < 11; t++) {
      LowRankVector v = randomVector(rnd, LAYOUT, rank);
      assertEquals(t % m, w.nextSlot());
      assertEquals(t % m, w.insert(v));
      assertEquals(t + 1, w.insertCount());
      slots[t % m] = dense(v);
      assertMatchesDense(w, slots, v, rnd);
      assertMatchesDense(w, slots, randomVector(rnd, LAYOUT, rank), rnd);
    }
  }

  @Test
  void emptySlotsContributeNothing() {
    Random rnd = new Random(2);
    LowRankWindow w = new LowRankWindow(5, LAYOUT, 3);
    double[][] slots = new double[5][];
    assertMatchesDense(w, slots, randomVector(rnd, LAYOUT, 3), rnd);
    for (int t = 0; t < 2; t++) {
      LowRankVector v = randomVector(rnd, LAYOUT, 3);
      w.insert(v);
      slots[t] = dense(v);
    }
    assertMatchesDense(w, slots, randomVector(rnd, LAYOUT, 3), rnd);
  }

  @Test
  void storesCopiesOfTheFactors() {
    Random rnd = new Random(4);
    LowRankWindow w = new LowRankWindow(2, LAYOUT, 1);
    LowRankVector v = randomVector(rnd, LAYOUT, 1);
    double[] before = dense(v);
    w.insert(v);
    v.p(0)[0] += 100;
    v.raw(1)[0] += 100;
    double[] acc = new double[LAYOUT.dimension()];
    w.addCombination(new double[] {1, 0}, acc);
    for (int i = 0; i < acc.length; i++) {
      assertEquals(before[i], acc[i], 1e-12);
    }
  }

  @Test
  void compressorOutputsAndAParallelSizedWindowMatchDense() {
    Random rnd = new Random(8);
    TensorLayout layout = TensorLayout.parse("40x60,30,70x20");
    int m = 24;
    int rank = 4;
    LowRankCompressor compressor = new LowRankCompressor(layout, rank, 1);
    LowRankWindow w = new LowRankWindow(m, layout, rank);
    double[][] slots = new double[m][];
    for (int t = 0; t < 30; t++) {
      LowRankVector v = compressor.compress(gaussian(rnd, layout.dimension()));
      slots[w.insert(v)] = dense(v);
    }
    assertMatchesDense(w, slots, compressor.compress(gaussian(rnd, layout.dimension())), rnd);
  }

  @Test
  void resetEmptiesEverySlot() {
    Random rnd = new Random(3);
    LowRankWindow w = new LowRankWindow(3, LAYOUT, 2);
    for (int t = 0; t < 4; t++) {
      w.insert(randomVector(rnd, LAYOUT, 2));
    }
    w.reset();
    assertEquals(0, w.insertCount());
    assertEquals(0, w.nextSlot());
    assertMatchesDense(w, new double[3][], randomVector(rnd, LAYOUT, 2), rnd);
    // After a reset the first insert lands in slot 0 and the wrap-around slots stay empty.
    LowRankVector v = randomVector(rnd, LAYOUT, 2);
    w.insert(v);
    assertMatchesDense(w, new double[][] {dense(v), null, null}, v, rnd);
  }

  @Test
  void serialisedWindowGivesIdenticalResults() throws Exception {
    Random rnd = new Random(5);
    LowRankWindow w = new LowRankWindow(3, LAYOUT, 2);
    for (int t = 0; t < 4; t++) {
      w.insert(randomVector(rnd, LAYOUT, 2));
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(w);
    }
    LowRankWindow copy;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      copy = (LowRankWindow) in.readObject();
    }
    LowRankVector v = randomVector(rnd, LAYOUT, 2);
    assertEquals(w.insert(v), copy.insert(v));
    double[] a = new double[3];
    double[] b = new double[3];
    w.dots(v, a);
    copy.dots(v, b);
    assertArrayEquals(a, b);
    double[] accA = new double[LAYOUT.dimension()];
    double[] accB = new double[LAYOUT.dimension()];
    w.addCombination(a, accA);
    copy.addCombination(b, accB);
    assertArrayEquals(accA, accB);
  }

  @Test
  void memoryCountsEveryStoredDouble() {
    // Per slot: 3x4 → 2·(3+4), 5 → 5, 6x2 → 2·(6+2), 2x3x2 → 2·(2+6), 1 → 1.
    long perSlot = 2 * 7 + 5 + 2 * 8 + 2 * 8 + 1;
    assertEquals(8 * 4 * perSlot, new LowRankWindow(4, LAYOUT, 2).memoryBytes());
  }

  @Test
  void rejectsMismatchedVectorsAndArguments() {
    LowRankWindow w = new LowRankWindow(2, LAYOUT, 2);
    Random rnd = new Random(1);
    List<CompressedVector> bad = new ArrayList<>();
    bad.add(new DenseVector(new double[LAYOUT.dimension()]));
    bad.add(randomVector(rnd, LAYOUT, 3));
    bad.add(randomVector(rnd, TensorLayout.parse("4x3,5,6x2,2x3x2,1"), 2));
    for (CompressedVector c : bad) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.insert(c));
      assertTrue(e.getMessage().startsWith("c: "), e.getMessage());
      e = assertThrows(IllegalArgumentException.class, () -> w.dots(c, new double[2]));
      assertTrue(e.getMessage().startsWith("v: "), e.getMessage());
    }
    assertEquals(0, w.insertCount());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new LowRankWindow(0, LAYOUT, 1));
    assertTrue(e.getMessage().startsWith("m: "), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new LowRankWindow(2, LAYOUT, 0));
    assertTrue(e.getMessage().startsWith("rank: "), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> w.addCombination(new double[3], new double[LAYOUT.dimension()]));
    assertTrue(e.getMessage().startsWith("coef: "), e.getMessage());
  }
}
