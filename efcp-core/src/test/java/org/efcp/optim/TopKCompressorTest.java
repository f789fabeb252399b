package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TopKCompressorTest {

  /** Brute force: sort indices by (−|a_i|, i), keep the first k, then ascending. */
  private static int[] reference(double[] a, int k) {
    Integer[] order = new Integer[a.length];
    for (int i = 0; i < a.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (x, y) -> {
      int c = Double.compare(Math.abs(a[y]), Math.abs(a[x]));
      return c != 0 ? c : Integer.compare(x, y);
    });
    int[] kept = new int[k];
    for (int q = 0; q < k; q++) {
      kept[q] = order[q];
    }
    Arrays.sort(kept);
    return kept;
  }

  private static void assertMatchesReference(double[] a, int k, TopKCompressor topK) {
    SparseVector s = topK.compress(a);
    int[] expected = reference(a, k);
    assertArrayEquals(expected, s.indices());
    for (int q = 0; q < k; q++) {
      assertEquals((float) a[expected[q]], s.values()[q]);
    }
  }

  private static int[] indicesOf(double[] a, int k) {
    return new TopKCompressor(a.length, k).compress(a).indices();
  }

  @Test
  void countForTruncatesTheDoubleProductOfADensity() {
    assertEquals(28, TopKCompressor.countFor(0.29, 100));
    assertEquals(7690, TopKCompressor.countFor(0.01, 769_000));
    assertEquals(100, TopKCompressor.countFor(1.0, 100));
    assertEquals(1, TopKCompressor.countFor(0.01, 100));
  }

  @Test
  void countForTakesValuesAboveOneAsCounts() {
    assertEquals(5, TopKCompressor.countFor(5.0, 100));
    assertEquals(2, TopKCompressor.countFor(2.9, 100));
    assertEquals(1, TopKCompressor.countFor(1.5, 100));
    assertEquals(100, TopKCompressor.countFor(100.0, 100));
  }

  @Test
  void countForRejectsBadValuesNamingDensity() {
    for (double bad : new double[] {Double.NaN, 0.0, -0.5, -3, Double.POSITIVE_INFINITY, 0.001, 101}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TopKCompressor.countFor(bad, 100));
      assertTrue(e.getMessage().startsWith("density: "), e.getMessage());
    }
  }

  @Test
  void constructorRejectsKOutsideOneToD() {
    for (int bad : new int[] {0, -1, 11}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new TopKCompressor(10, bad));
      assertTrue(e.getMessage().startsWith("k: "), e.getMessage());
    }
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new TopKCompressor(10, 3).compress(new double[9]));
    assertTrue(e.getMessage().startsWith("a: "), e.getMessage());
  }

  @Test
  void equalMagnitudesAreResolvedToTheLowerIndex() {
    assertArrayEquals(new int[] {0, 1, 2}, indicesOf(new double[] {1, -1, 1, -1, 1, -1}, 3));
    assertArrayEquals(new int[] {0, 2, 4}, indicesOf(new double[] {-2, 1, 2, -2, 3}, 3));
    assertArrayEquals(new int[] {1, 2}, indicesOf(new double[] {1, -4, 4, 4, 1}, 2));
    assertArrayEquals(new int[] {1, 3}, indicesOf(new double[] {1, -4, 3, 4, 1}, 2));
    assertArrayEquals(new int[] {0}, indicesOf(new double[] {-0.0, 0.0, 0.0}, 1));
  }

  @Test
  void zerosAreSelectedWhenFewerThanKAreNonZero() {
    SparseVector s = new TopKCompressor(5, 3).compress(new double[] {0, 0, 5, 0, -3});
    assertArrayEquals(new int[] {0, 2, 4}, s.indices());
    assertArrayEquals(new float[] {0f, 5f, -3f}, s.values());
    assertArrayEquals(new int[] {0, 1, 2, 3}, indicesOf(new double[7], 4));
  }

  @Test
  void valuesAreTheSignedEntriesRoundedToFloat32() {
    double[] a = {0.1, -1.0 / 3, 1e-40, 2.0000000001, -7};
    SparseVector s = new TopKCompressor(5, 5).compress(a);
    for (int q = 0; q < 5; q++) {
      assertEquals((float) a[q], s.values()[q]);
    }
  }

  @Test
  void selectionEqualsBruteForceOnRandomVectors() {
    Random rnd = new Random(12345);
    int[] sizes = {1, 2, 3, 17, 100, 1000, 4096, 20_000};
    for (int d : sizes) {
      for (int trial = 0; trial < 12; trial++) {
        double[] a = randomVector(rnd, d, trial % 6);
        int k = 1 + rnd.nextInt(d);
        assertMatchesReference(a, k, new TopKCompressor(d, k));
      }
    }
  }

  @Test
  void selectionEqualsBruteForceAtLargeDimension() {
    Random rnd = new Random(99);
    int d = 100_000;
    for (int kind = 0; kind < 6; kind++) {
      double[] a = randomVector(rnd, d, kind);
      int k = kind % 2 == 0 ? 1000 : 1 + rnd.nextInt(d);
      assertMatchesReference(a, k, new TopKCompressor(d, k));
    }
  }

  @Test
  void scratchReuseAcrossCallsAndSerialisationKeepsResultsExact() throws Exception {
    Random rnd = new Random(7);
    int d = 3000;
    int k = 150;
    TopKCompressor topK = new TopKCompressor(d, k);
    for (int t = 0; t < 20; t++) {
      assertMatchesReference(randomVector(rnd, d, t % 6), k, topK);
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(topK);
    }
    TopKCompressor copy;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      copy = (TopKCompressor) in.readObject();
    }
    assertEquals(k, copy.k());
    assertMatchesReference(randomVector(rnd, d, 2), k, copy);
    assertEquals(0, topK.memoryBytes());
  }

  /**
   * kind 0: Gaussian; 1: few distinct magnitudes (heavy ties, both signs); 2: mostly zeros; 3: magnitudes over
   * many binades; 4: values 1 + j·ulp (differ only in the lowest mantissa bits); 5: mixed ties near a scale.
   */
  static double[] randomVector(Random rnd, int d, int kind) {
    double[] a = new double[d];
    for (int i = 0; i < d; i++) {
      a[i] = switch (kind) {
        case 0 -> rnd.nextGaussian();
        case 1 -> (rnd.nextInt(4) - 1.5) * 2;
        case 2 -> rnd.nextInt(10) == 0 ? rnd.nextGaussian() : 0.0;
        case 3 -> Math.scalb(rnd.nextDouble() - 0.5, rnd.nextInt(200) - 100);
        case 4 -> (rnd.nextBoolean() ? 1 : -1) * (1.0 + rnd.nextInt(70_000) * Math.ulp(1.0));
        default -> (rnd.nextBoolean() ? 1 : -1) * Math.scalb(1.0 + rnd.nextInt(3) * Math.ulp(1.0), rnd.nextInt(3));
      };
    }
    return a;
  }
}
