package org.efcp.optim;

import java.util.Objects;

/**
 * A d-vector with k stored entries: strictly ascending int32 indices and their float32 values (what Top-k
 * keeps). Entries not stored are exact zeros; stored values may be zero.
 */
public final class SparseVector implements CompressedVector {
  private final int dimension;
  private final int[] indices;
  private final float[] values;

  /**
   * Wraps the arrays without copying (callers hand over ownership).
   *
   * @throws IllegalArgumentException if lengths differ or indices are not strictly ascending within [0, d)
   */
  public SparseVector(int dimension, int[] indices, float[] values) {
    this.dimension = dimension;
    this.indices = Objects.requireNonNull(indices, "indices");
    this.values = Objects.requireNonNull(values, "values");
    if (indices.length != values.length) {
      throw new IllegalArgumentException("indices and values differ in length: " + indices.length + " vs " + values.length);
    }
    int prev = -1;
    for (int i : indices) {
      if (i <= prev || i >= dimension) {
        throw new IllegalArgumentException("indices must be strictly ascending in [0, " + dimension + "), got " + i + " after " + prev);
      }
      prev = i;
    }
  }

  @Override
  public int dimension() {
    return dimension;
  }

  /** Number of stored entries k. */
  public int nnz() {
    return indices.length;
  }

  /** The stored indices (ascending); do not modify. */
  public int[] indices() {
    return indices;
  }

  /** The stored values; do not modify. */
  public float[] values() {
    return values;
  }

  @Override
  public void toDense(double[] out) {
    java.util.Arrays.fill(out, 0.0);
    for (int q = 0; q < indices.length; q++) {
      out[indices[q]] = values[q];
    }
  }

  @Override
  public void addTo(double[] acc, double alpha) {
    for (int q = 0; q < indices.length; q++) {
      acc[indices[q]] += alpha * values[q];
    }
  }
}
