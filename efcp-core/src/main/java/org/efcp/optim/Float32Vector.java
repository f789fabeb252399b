package org.efcp.optim;

import java.util.Objects;

/**
 * A dense d-vector in float32: how a {@link DenseWindow} stores a slot, and the form its slots take in a
 * {@link PipelineState} (half the bytes of a {@link DenseVector}, which matters at the 3.15 GB window of dense M-FAC
 * at the linear-probe size).
 */
public final class Float32Vector implements CompressedVector {
  private final float[] values;

  /** Wraps {@code values} without copying. */
  public Float32Vector(float[] values) {
    this.values = Objects.requireNonNull(values, "values");
  }

  @Override
  public int dimension() {
    return values.length;
  }

  /** The entries; do not modify. */
  public float[] values() {
    return values;
  }

  @Override
  public void toDense(double[] out) {
    for (int i = 0; i < values.length; i++) {
      out[i] = values[i];
    }
  }

  @Override
  public void addTo(double[] acc, double alpha) {
    for (int i = 0; i < values.length; i++) {
      acc[i] += alpha * values[i];
    }
  }
}
