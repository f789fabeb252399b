package org.efcp.optim;

import java.util.Objects;

/** An uncompressed d-vector in float64 (dense M-FAC, dense GGT and SGD consume these). */
public final class DenseVector implements CompressedVector {
  private final double[] values;

  /** Wraps {@code values} without copying. */
  public DenseVector(double[] values) {
    this.values = Objects.requireNonNull(values, "values");
  }

  @Override
  public int dimension() {
    return values.length;
  }

  /** The entries; do not modify. */
  public double[] values() {
    return values;
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
}
