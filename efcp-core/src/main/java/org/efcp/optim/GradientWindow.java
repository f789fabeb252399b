package org.efcp.optim;

import java.io.Serializable;

/**
 * The ring buffer of the last m compressed vectors x_0..x_{m-1} that M-FAC and GGT build their m×m state
 * from. Slot {@code s = t mod m} for the t-th insert (t from 0); all slots start as exact zeros and an empty
 * slot contributes nothing (zero dot products, zero coefficient). Implementations: {@link DenseWindow}
 * (m×d float32), {@link SparseWindow} (m×k float32 values + int32 indices), {@link LowRankWindow} (per-tensor
 * P, Q factors).
 *
 * <p>Determinism: {@link #dots} and {@link #addCombination} give results that do not depend on the number of
 * threads used (each output entry is summed in a fixed order).
 */
public interface GradientWindow extends Serializable {

  /** m, the number of slots. */
  int capacity();

  /** d, the length of each vector. */
  int dimension();

  /** The slot the next {@link #insert} overwrites ({@code insertCount() mod m}). */
  int nextSlot();

  /** How many vectors have been inserted since construction or {@link #reset}. */
  long insertCount();

  /**
   * Copies {@code c} into slot {@link #nextSlot()} (dropping the oldest vector) and advances.
   *
   * @return the slot written
   * @throws IllegalArgumentException if {@code c} has the wrong dimension or representation for this window
   */
  int insert(CompressedVector c);

  /** {@code out[j] = <x_j, v>} in float64 for every slot j (0 for empty slots); {@code out.length == m}. */
  void dots(CompressedVector v, double[] out);

  /** {@code acc[i] += sum_j coef[j] * x_j[i]} in float64, slots summed in order 0..m-1; {@code acc.length == d}. */
  void addCombination(double[] coef, double[] acc);

  /**
   * A copy of the vector in {@code slot} in the form {@link #insert} takes: a {@link Float32Vector}, a
   * {@link SparseVector} or a {@link LowRankVector}; a zero vector for an empty slot.
   *
   * @throws IllegalArgumentException if {@code slot} is not in [0, m)
   */
  CompressedVector stored(int slot);

  /**
   * Fills an empty window: {@code slots[s]} goes into slot s (as {@link #insert} stores it), then the window counts
   * {@code insertCount} inserts, so that the next one writes slot {@code insertCount mod m}.
   *
   * @param slots min(insertCount, m) vectors, by slot
   * @throws IllegalArgumentException if the window is not empty, {@code slots} or one of its vectors is null, the
   *     number of vectors is not min(insertCount, m), or a vector does not fit the window; the window stays empty
   */
  void restore(CompressedVector[] slots, long insertCount);

  /** Persistent state bytes of the stored vectors. */
  long memoryBytes();

  /** Empties every slot. */
  void reset();
}
