package org.efcp.optim;

import java.util.Objects;

/**
 * Error feedback around any compressor (paper Algorithm 1, algorithms doc §1.1): keeps the error buffer
 * ξ ∈ R^d (ξ_0 = 0) and on each step forms the accumulator a = ξ + g, compresses c = C(a) and keeps
 * ξ = a − c. No learning rate enters the accumulator and kept values are not rescaled.
 *
 * <p>The accumulator is formed in ξ's own buffer, so no extra d-vector is held. With Top-k and float32
 * rounding, {@code c_i + ξ_i == a_i} bitwise on every entry (a − (float) a is exact in double); in exact
 * arithmetic Σ_{s≤t} c_s + ξ_t = Σ_{s≤t} g_s. Around {@link LowRankCompressor} this is the per-tensor error
 * feedback of §5, and its raw 1-D tensors get ξ = a − a = 0 exactly, i.e. no error feedback.
 */
public final class ErrorFeedback implements Compressor {
  private static final long serialVersionUID = 1L;

  private final Compressor inner;
  private final double[] error;

  /**
   * @param inner the compressor C applied to the accumulator
   * @param d the vector length (≥ 1)
   */
  public ErrorFeedback(Compressor inner, int d) {
    this.inner = Objects.requireNonNull(inner, "inner");
    if (d < 1) {
      throw new IllegalArgumentException("d: must be >= 1, got " + d);
    }
    this.error = new double[d];
  }

  /** The wrapped compressor. */
  public Compressor inner() {
    return inner;
  }

  /** The error buffer ξ (live array; do not modify). */
  public double[] error() {
    return error;
  }

  /**
   * Replaces ξ (the inner compressor's state is not touched).
   *
   * @throws IllegalArgumentException if the length is not d or an entry is not finite
   */
  public void restoreError(double[] xi) {
    if (xi.length != error.length) {
      throw new IllegalArgumentException("error: length must be d = " + error.length + ", got " + xi.length);
    }
    PipelineState.requireFinite(xi, "error:");
    System.arraycopy(xi, 0, error, 0, xi.length);
  }

  /** a = ξ + g; c = C(a); ξ = a − c. {@code g} (length d) is not modified. */
  @Override
  public CompressedVector compress(double[] g) {
    double[] xi = error;
    if (g.length != xi.length) {
      throw new IllegalArgumentException("g: length " + g.length + " != d = " + xi.length);
    }
    for (int i = 0; i < xi.length; i++) {
      xi[i] += g[i];
    }
    CompressedVector c = inner.compress(xi);
    c.addTo(xi, -1.0);
    return c;
  }

  /** 8·d bytes for ξ plus the inner compressor's state. */
  @Override
  public long memoryBytes() {
    return 8L * error.length + inner.memoryBytes();
  }

  /** Zeroes ξ and resets the inner compressor. */
  @Override
  public void reset() {
    java.util.Arrays.fill(error, 0.0);
    inner.reset();
  }
}
