package org.efcp.ml.train;

import java.io.Serializable;
import java.util.Arrays;
import org.efcp.model.DenseBlock;

/**
 * One partition's training rows stacked into a {@link DenseBlock} (raw, unstandardized features), with the
 * statistics gathered while stacking. Persisted for the whole fit.
 *
 * <p>Each step needs the rows whose epoch position falls into its mini-batch. The block sorts its rows by
 * position once per epoch (kept in transient fields of the cached object, so recomputed if the block was
 * evicted or moved) and answers each step with a binary search and one gather.
 */
public final class TrainingBlock implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int partition;
  private final DenseBlock rows;
  private final PartitionStats stats;

  private transient int orderEpoch = -1;
  private transient long[] sortedPositions;
  private transient int[] sortedRows;

  TrainingBlock(int partition, DenseBlock rows, PartitionStats stats) {
    this.partition = partition;
    this.rows = rows;
    this.stats = stats;
  }

  public int partition() {
    return partition;
  }

  /** The raw rows (null for an empty partition). */
  public DenseBlock rows() {
    return rows;
  }

  PartitionStats stats() {
    return stats;
  }

  /**
   * The rows {@code batchRows} (indices into {@link #rows()}, from {@link #batchRows}) gathered into one block in
   * that order, features multiplied by {@code scale} (null = as they are).
   */
  DenseBlock gather(int[] batchRows, double[] scale) {
    int n = batchRows.length;
    int f = rows.numFeatures();
    double[] src = rows.features();
    double[] x = new double[n * f];
    double[] y = new double[n];
    double[] w = new double[n];
    for (int i = 0; i < n; i++) {
      int r = batchRows[i];
      int s = r * f;
      int t = i * f;
      if (scale == null) {
        System.arraycopy(src, s, x, t, f);
      } else {
        for (int j = 0; j < f; j++) {
          x[t + j] = src[s + j] * scale[j];
        }
      }
      y[i] = rows.labels()[r];
      w[i] = rows.weights()[r];
    }
    return new DenseBlock(n, f, x, y, w);
  }

  /**
   * The indices (into {@link #rows()}) of the rows of mini-batch {@code step}, in position order; null when the block
   * has none.
   *
   * @param firstRow global index of this block's first row
   */
  int[] batchRows(EpochPermutation permutation, int epoch, long firstRow, long step, int batchSize) {
    if (rows == null || rows.numRows() == 0) {
      return null;
    }
    sortByPosition(permutation, epoch, firstRow);
    long lo = step * batchSize;
    int from = lowerBound(sortedPositions, lo);
    int to = lowerBound(sortedPositions, lo + batchSize);
    return to == from ? null : Arrays.copyOfRange(sortedRows, from, to);
  }

  private void sortByPosition(EpochPermutation permutation, int epoch, long firstRow) {
    if (orderEpoch == epoch && sortedPositions != null) {
      return;
    }
    int n = rows.numRows();
    long[] positions = new long[n];
    int[] order = new int[n];
    if (permutation.numRows() <= Long.MAX_VALUE / n) {
      // Positions are distinct: sort the keys position·n + row as primitives and split them again.
      long[] keys = new long[n];
      for (int r = 0; r < n; r++) {
        keys[r] = permutation.position(firstRow + r) * n + r;
      }
      Arrays.sort(keys);
      for (int i = 0; i < n; i++) {
        positions[i] = keys[i] / n;
        order[i] = (int) (keys[i] % n);
      }
    } else {
      long[] byRow = new long[n];
      Integer[] boxed = new Integer[n];
      for (int r = 0; r < n; r++) {
        byRow[r] = permutation.position(firstRow + r);
        boxed[r] = r;
      }
      Arrays.sort(boxed, (a, b) -> Long.compare(byRow[a], byRow[b]));
      for (int i = 0; i < n; i++) {
        order[i] = boxed[i];
        positions[i] = byRow[order[i]];
      }
    }
    sortedPositions = positions;
    sortedRows = order;
    orderEpoch = epoch;
  }

  private static int lowerBound(long[] sorted, long key) {
    int lo = 0;
    int hi = sorted.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (sorted[mid] < key) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo;
  }
}
