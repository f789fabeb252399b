package org.efcp.optim;

/** TODO(owner: see helper prompt) — signature contract; replaced by the real implementation. */
public final class DirectionPipeline implements java.io.Serializable {
  private static final long serialVersionUID = 1L;
  /** Builds EF∘compress → precondition for config.method() (lr = 1, no momentum, no decay, no clipping). */
  public static DirectionPipeline create(OptimizerConfig config) { throw new UnsupportedOperationException(); }
  /** One step: g (length d, not modified) → u written into uOut (length d). Stateful. */
  public void direction(double[] g, double[] uOut) { throw new UnsupportedOperationException(); }
  /** The compressed vector c_t of the last step (what entered the window). */
  public CompressedVector lastCompressed() { throw new UnsupportedOperationException(); }
  public Compressor compressor() { throw new UnsupportedOperationException(); }
  public Preconditioner preconditioner() { throw new UnsupportedOperationException(); }
  /** Persistent state bytes: error buffer, compressor state, preconditioner state. */
  public long memoryBytes() { throw new UnsupportedOperationException(); }
  public void reset() { throw new UnsupportedOperationException(); }
}
