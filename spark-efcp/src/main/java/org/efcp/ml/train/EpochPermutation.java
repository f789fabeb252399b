package org.efcp.ml.train;

import java.io.Serializable;

/**
 * A seeded pseudo-random bijection of the row indices {@code [0, N)} for one epoch, evaluated per row in O(1)
 * without materialising the permutation, so that every executor can tell which mini-batch its rows belong to
 * (e.g. {@code position(row) / batchSize}) without shuffling data.
 *
 * <p>Method: a balanced Feistel network of {@value #ROUNDS} rounds on the smallest domain of {@code 2k} bits
 * with {@code 2^(2k) >= N} (halves of {@code k} bits, {@code k >= 1}), which is a bijection of that domain for
 * any round function; cycle-walking (applying the network again while the value is {@code >= N}) restricts it to
 * a bijection of {@code [0, N)}. The domain is less than {@code 4N}, so a row takes fewer than 4 passes on
 * average. Round {@code r} maps the right half {@code R} to {@code splitmix64(key_r + R * golden)}, with the
 * round keys derived by splitmix64 from (seed, epoch, round).
 */
public final class EpochPermutation implements Serializable {

  private static final long serialVersionUID = 1L;

  /** The largest supported number of rows, 2^62 (halves of 31 bits). */
  public static final long MAX_ROWS = 1L << 62;

  private static final int ROUNDS = 6;
  private static final long GOLDEN = 0x9e3779b97f4a7c15L;

  private final long numRows;
  private final int halfBits;
  private final long halfMask;
  private final long[] roundKeys;

  /**
   * @param numRows the number of rows N, in {@code [1, 2^62]}
   * @param seed    any seed; permutations with different seeds are unrelated
   * @param epoch   the epoch index, at least 0; each epoch gives an unrelated permutation
   */
  public EpochPermutation(long numRows, long seed, int epoch) {
    if (numRows < 1 || numRows > MAX_ROWS) {
      throw new IllegalArgumentException("numRows must be in [1, 2^62], got " + numRows);
    }
    if (epoch < 0) {
      throw new IllegalArgumentException("epoch must be at least 0, got " + epoch);
    }
    this.numRows = numRows;
    int bits = 64 - Long.numberOfLeadingZeros(numRows - 1); // ceil(log2 N); 0 for N = 1
    this.halfBits = Math.max(1, (bits + 1) / 2);
    this.halfMask = (1L << halfBits) - 1;
    this.roundKeys = new long[ROUNDS];
    long base = mix(mix(seed) + GOLDEN * (epoch + 1L));
    for (int r = 0; r < ROUNDS; r++) {
      roundKeys[r] = mix(base + GOLDEN * (r + 1L));
    }
  }

  /** The number of rows N. */
  public long numRows() {
    return numRows;
  }

  /**
   * The position of {@code row} in this epoch's order, in {@code [0, N)}; distinct rows get distinct positions.
   *
   * @throws IllegalArgumentException if {@code row} is not in {@code [0, N)}
   */
  public long position(long row) {
    if (row < 0 || row >= numRows) {
      throw new IllegalArgumentException("row must be in [0, " + numRows + "), got " + row);
    }
    long x = row;
    do {
      x = feistel(x);
    } while (x >= numRows);
    return x;
  }

  private long feistel(long x) {
    long left = x >>> halfBits;
    long right = x & halfMask;
    for (long key : roundKeys) {
      long next = left ^ (mix(key + right * GOLDEN) & halfMask);
      left = right;
      right = next;
    }
    return (left << halfBits) | right;
  }

  /** The splitmix64 finaliser: a bijective 64-bit mixer with full avalanche. */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }
}
