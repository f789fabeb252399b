package org.efcp.model;

import java.io.Serializable;
import java.util.Arrays;

/**
 * A block of n labelled, weighted rows with f dense features each, the unit a {@link DifferentiableModel}
 * works on.
 *
 * <p>Features are stored row-major in one {@code double[n·f]}: entry (i, j) is {@code features[i·f + j]}. Read
 * as a column-major Fortran matrix that is Xᵀ (f × n, leading dimension f), so BLAS reads any range of rows
 * in place without copies. Labels are class indices stored as doubles (as in Spark ML); weights are the
 * per-row sample weights (≥ 0; 1 when not given).
 *
 * <p>The arrays are held, not copied: callers must not change them while a model uses the block. Size checks
 * happen at construction; value checks (finite features, integer labels, valid weights) are in
 * {@link #validate(int, int)}, which a caller runs once per block so the hot path needs not re-check.
 */
public final class DenseBlock implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int numRows;
  private final int numFeatures;
  private final double[] features;
  private final double[] labels;
  private final double[] weights;

  /**
   * A block over the given arrays (not copied).
   *
   * @param numRows n ≥ 0
   * @param numFeatures f ≥ 1
   * @param features row-major n × f values
   * @param labels n class indices
   * @param weights n sample weights
   */
  public DenseBlock(int numRows, int numFeatures, double[] features, double[] labels, double[] weights) {
    if (numRows < 0) {
      throw new IllegalArgumentException("numRows: must be >= 0, got " + numRows);
    }
    if (numFeatures < 1) {
      throw new IllegalArgumentException("numFeatures: must be >= 1, got " + numFeatures);
    }
    long cells = (long) numRows * numFeatures;
    if (cells > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("features: " + numRows + " x " + numFeatures + " exceeds one Java array");
    }
    checkLength("features", features, (int) cells);
    checkLength("labels", labels, numRows);
    checkLength("weights", weights, numRows);
    this.numRows = numRows;
    this.numFeatures = numFeatures;
    this.features = features;
    this.labels = labels;
    this.weights = weights;
  }

  /** A block whose rows all have weight 1. */
  public DenseBlock(int numRows, int numFeatures, double[] features, double[] labels) {
    this(numRows, numFeatures, features, labels, ones(labels == null ? 0 : labels.length));
  }

  /** Copies {@code rows} (each of length {@code numFeatures}) into a new block with the given labels and weights. */
  public static DenseBlock fromRows(int numFeatures, double[][] rows, double[] labels, double[] weights) {
    if (numFeatures < 1) {
      throw new IllegalArgumentException("numFeatures: must be >= 1, got " + numFeatures);
    }
    if ((long) rows.length * numFeatures > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("rows: " + rows.length + " x " + numFeatures + " exceeds one Java array");
    }
    double[] x = new double[rows.length * numFeatures];
    for (int i = 0; i < rows.length; i++) {
      if (rows[i].length != numFeatures) {
        throw new IllegalArgumentException(
            "rows: row " + i + " has " + rows[i].length + " columns, expected " + numFeatures);
      }
      System.arraycopy(rows[i], 0, x, i * numFeatures, numFeatures);
    }
    return new DenseBlock(rows.length, numFeatures, x, labels, weights);
  }

  /** Copies {@code rows} into a new block whose rows all have weight 1. */
  public static DenseBlock fromRows(int numFeatures, double[][] rows, double[] labels) {
    return fromRows(numFeatures, rows, labels, ones(labels.length));
  }

  /** n, the number of rows. */
  public int numRows() {
    return numRows;
  }

  /** f, the number of features per row. */
  public int numFeatures() {
    return numFeatures;
  }

  /** The row-major n × f feature array itself (not a copy). */
  public double[] features() {
    return features;
  }

  /** The n labels themselves (not a copy). */
  public double[] labels() {
    return labels;
  }

  /** The n weights themselves (not a copy). */
  public double[] weights() {
    return weights;
  }

  /** Σ_i w_i, the number the summed loss and gradient are divided by to get means. */
  public double totalWeight() {
    double sum = 0;
    for (int i = 0; i < numRows; i++) {
      sum += weights[i];
    }
    return sum;
  }

  /**
   * Checks the block's values for a model with {@code expectedFeatures} inputs and {@code numClasses} classes.
   *
   * @throws IllegalArgumentException "features: ..." for a width mismatch or a non-finite value, "label: ..."
   *     for a label that is not an integer in [0, numClasses), "weight: ..." for a weight that is not finite
   *     and ≥ 0
   */
  public void validate(int expectedFeatures, int numClasses) {
    if (numFeatures != expectedFeatures) {
      throw new IllegalArgumentException(
          "features: expected " + expectedFeatures + " columns, got " + numFeatures);
    }
    for (int k = 0; k < features.length; k++) {
      if (!Double.isFinite(features[k])) {
        throw new IllegalArgumentException("features: row " + k / numFeatures + " column " + k % numFeatures
            + " is " + features[k] + " (must be finite)");
      }
    }
    for (int i = 0; i < numRows; i++) {
      double y = labels[i];
      if (!(y >= 0 && y < numClasses && y == Math.rint(y))) {
        throw new IllegalArgumentException(
            "label: row " + i + " is " + y + " (must be an integer in [0, " + numClasses + "))");
      }
      if (!(weights[i] >= 0 && weights[i] < Double.POSITIVE_INFINITY)) {
        throw new IllegalArgumentException("weight: row " + i + " is " + weights[i] + " (must be finite and >= 0)");
      }
    }
  }

  private static void checkLength(String name, double[] array, int expected) {
    if (array == null) {
      throw new IllegalArgumentException(name + ": must not be null");
    }
    if (array.length != expected) {
      throw new IllegalArgumentException(name + ": expected " + expected + " values, got " + array.length);
    }
  }

  private static double[] ones(int n) {
    double[] w = new double[n];
    Arrays.fill(w, 1.0);
    return w;
  }
}
