package org.efcp.optim;

/**
 * No preconditioning: {@code u = c} (plain SGD). Keeps no window and no state, so {@link #memoryBytes()} is 0
 * and {@link #reset()} does nothing.
 */
public final class IdentityPreconditioner implements Preconditioner {
  private static final long serialVersionUID = 1L;

  private final int d;

  /**
   * @param d the vector length (≥ 1)
   * @throws IllegalArgumentException if {@code d < 1}
   */
  public IdentityPreconditioner(int d) {
    if (d < 1) {
      throw new IllegalArgumentException("d: must be >= 1, got " + d);
    }
    this.d = d;
  }

  @Override
  public int dimension() {
    return d;
  }

  /** Writes {@code c} as a dense vector into {@code out}. */
  @Override
  public void update(CompressedVector c, double[] out) {
    UpdateArguments.check(d, c, out);
    c.toDense(out);
  }

  @Override
  public long memoryBytes() {
    return 0;
  }

  @Override
  public void reset() {
    // stateless
  }
}
