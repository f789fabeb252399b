package org.efcp.optim;

import java.io.Serializable;

/**
 * Compresses an accumulator a ∈ R^d into a {@link CompressedVector}. Stateful compressors (low-rank keeps a
 * warm-start Q per tensor) are serialised with the optimizer so that a restored optimizer continues
 * bit-identically.
 */
public interface Compressor extends Serializable {

  /** Returns C(a). {@code a} is read, never modified, and not retained. */
  CompressedVector compress(double[] a);

  /** Persistent state bytes (buffers that live across steps). */
  long memoryBytes();

  /** Forgets all state, as if freshly constructed. */
  void reset();
}
