package org.efcp.optim;

/**
 * A compressed d-vector c_t as produced by a {@link Compressor} and consumed by a
 * {@link Preconditioner}: sparse (Top-k), low-rank (per-tensor P Qᵀ) or dense.
 *
 * <p>Implementations are immutable after construction; the preconditioner windows copy what they keep.
 */
public interface CompressedVector {

  /** The length d of the flat parameter vector this vector lives in. */
  int dimension();

  /** Writes this vector as a dense d-vector into {@code out} (overwriting every entry). */
  void toDense(double[] out);

  /** {@code acc += alpha * this}, entry by entry in float64. */
  void addTo(double[] acc, double alpha);
}
