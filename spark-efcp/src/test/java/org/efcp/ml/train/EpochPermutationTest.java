package org.efcp.ml.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.function.LongUnaryOperator;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The per-row epoch order is a deterministic bijection that looks random and changes with seed and epoch. */
class EpochPermutationTest {

  private static long[] positions(EpochPermutation perm) {
    long[] pos = new long[Math.toIntExact(perm.numRows())];
    for (int i = 0; i < pos.length; i++) {
      pos[i] = perm.position(i);
    }
    return pos;
  }

  @ParameterizedTest
  @ValueSource(longs = {1, 2, 3, 4, 5, 7, 64, 1000, 65537})
  void positionIsABijectionOfTheRows(long numRows) {
    for (long seed : new long[] {0, 42, -7}) {
      for (int epoch : new int[] {0, 1, 9}) {
        boolean[] taken = new boolean[(int) numRows];
        for (long pos : positions(new EpochPermutation(numRows, seed, epoch))) {
          assertTrue(pos >= 0 && pos < numRows, "position " + pos);
          assertFalse(taken[(int) pos], "position " + pos + " taken twice");
          taken[(int) pos] = true;
        }
      }
    }
  }

  @Test
  void theSamePermutationIsComputedAgainAndAfterSerialisation() throws Exception {
    EpochPermutation perm = new EpochPermutation(1000, 5, 3);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(perm);
    }
    EpochPermutation copy;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      copy = (EpochPermutation) in.readObject();
    }
    assertArrayEquals(positions(perm), positions(new EpochPermutation(1000, 5, 3)));
    assertArrayEquals(positions(perm), positions(copy));
  }

  @Test
  void otherEpochsAndSeedsGiveUnrelatedPermutations() {
    long[] base = positions(new EpochPermutation(1000, 5, 3));
    for (long[] other : new long[][] {
        positions(new EpochPermutation(1000, 5, 4)),
        positions(new EpochPermutation(1000, 5, 0)),
        positions(new EpochPermutation(1000, 6, 3)),
        positions(new EpochPermutation(1000, -5, 3))}) {
      // Two independent random permutations agree on ~1 row; allow a generous 10.
      int same = 0;
      for (int i = 0; i < base.length; i++) {
        same += base[i] == other[i] ? 1 : 0;
      }
      assertTrue(same <= 10, same + " rows keep their position");
    }
  }

  @Test
  void batchCompositionOverManySeedsMatchesAUniformShuffle() {
    // Pearson's statistic of a 10×10 table with fixed margins has mean 81·n/(n-1) under a uniform shuffle, and
    // variance ~162, so the mean of 2,000 seeds has sd 0.28. Too few Feistel rounds bias it upward (4 rounds: +2).
    int n = 1000;
    int seeds = 2000;
    double total = 0;
    for (int seed = 0; seed < seeds; seed++) {
      EpochPermutation perm = new EpochPermutation(n, seed, 3);
      long[][] counts = new long[10][10];
      for (int row = 0; row < n; row++) {
        counts[(int) (perm.position(row) / 100)][row / 100]++;
      }
      total += chiSquare(counts, 10.0);
    }
    double expected = 81.0 * n / (n - 1);
    assertEquals(expected, total / seeds, 1.0);
  }

  private static double chiSquare(long[][] counts, double expected) {
    double chi2 = 0;
    for (long[] batch : counts) {
      for (long c : batch) {
        chi2 += (c - expected) * (c - expected) / expected;
      }
    }
    return chi2;
  }

  /**
   * Chi-square statistic of (mini-batch × class) counts for 10,000 rows sorted by class (label = row / 1000)
   * cut into 10 batches of 1,000 by position; a uniform shuffle gives a 10×10 table with 81 degrees of freedom.
   */
  private static double batchClassChiSquare(LongUnaryOperator position) {
    int n = 10_000;
    int k = 10;
    long[][] counts = new long[k][k];
    for (int row = 0; row < n; row++) {
      counts[(int) (position.applyAsLong(row) / (n / k))][row / (n / k)]++;
    }
    return chiSquare(counts, (double) n / (k * k));
  }

  @Test
  void miniBatchesMixTheClassesOfSortedData() {
    // 81 degrees of freedom: mean 81, sd 12.7; 150 is exceeded with probability ~1e-8.
    double bound = 150;
    assertTrue(batchClassChiSquare(row -> row) > bound, "the identity must fail this check");
    for (int epoch = 0; epoch < 5; epoch++) {
      EpochPermutation perm = new EpochPermutation(10_000, 11, epoch);
      double chi2 = batchClassChiSquare(perm::position);
      assertTrue(chi2 < bound, "epoch " + epoch + ": chi-square " + chi2);
    }
  }

  @Test
  void rowsMoveByAThirdOfTheDataOnAverage() {
    // For a uniform permutation E|pos - row| = (N^2 - 1) / 3N; the sample mean's sd is ~0.7 % here.
    int n = 10_000;
    for (int epoch = 0; epoch < 3; epoch++) {
      EpochPermutation perm = new EpochPermutation(n, 2, epoch);
      double total = 0;
      for (int row = 0; row < n; row++) {
        total += Math.abs(perm.position(row) - row);
      }
      double expected = (n * (double) n - 1) / (3.0 * n);
      assertEquals(expected, total / n, 0.03 * expected, "epoch " + epoch);
    }
  }

  @Test
  void aRowLandsUniformlyOverSeedsEvenInATinyDomain() {
    // N = 10 uses a 16-element Feistel domain with cycle-walking; position(0) must still be uniform.
    int n = 10;
    int seeds = 20_000;
    long[] counts = new long[n];
    for (int seed = 0; seed < seeds; seed++) {
      counts[(int) new EpochPermutation(n, seed, 0).position(0)]++;
    }
    double expected = (double) seeds / n;
    double chi2 = 0;
    for (long c : counts) {
      chi2 += (c - expected) * (c - expected) / expected;
    }
    assertTrue(chi2 < 40, "chi-square " + chi2 + " with 9 degrees of freedom"); // p ~ 7e-6
  }

  @Test
  void theLargestDomainStaysInRange() {
    EpochPermutation perm = new EpochPermutation(EpochPermutation.MAX_ROWS, 1, 0);
    EpochPermutation odd = new EpochPermutation((1L << 60) + 3, 1, 0);
    for (long row : new long[] {0, 1, 12345, (1L << 60) + 2}) {
      assertTrue(perm.position(row) >= 0 && perm.position(row) < EpochPermutation.MAX_ROWS);
      assertTrue(odd.position(row) >= 0 && odd.position(row) < (1L << 60) + 3);
    }
    assertEquals(EpochPermutation.MAX_ROWS, perm.numRows());
  }

  @Test
  void badArgumentsAreRejectedByName() {
    EpochPermutation perm = new EpochPermutation(10, 0, 0);
    IllegalArgumentException high = assertThrows(IllegalArgumentException.class, () -> perm.position(10));
    assertTrue(high.getMessage().startsWith("row must be in [0, 10), got 10"), high.getMessage());
    assertThrows(IllegalArgumentException.class, () -> perm.position(-1));
    IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
        () -> new EpochPermutation(0, 0, 0));
    assertTrue(none.getMessage().startsWith("numRows"), none.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new EpochPermutation(EpochPermutation.MAX_ROWS + 1, 0, 0));
    IllegalArgumentException epoch = assertThrows(IllegalArgumentException.class,
        () -> new EpochPermutation(10, 0, -1));
    assertTrue(epoch.getMessage().startsWith("epoch"), epoch.getMessage());
  }
}
