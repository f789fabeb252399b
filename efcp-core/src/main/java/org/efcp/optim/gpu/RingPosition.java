package org.efcp.optim.gpu;

/**
 * Where a device window of m slots stands, as the CPU's ring windows count it: step t (from 0) writes slot
 * {@code t mod m} (the oldest vector's, once the ring is full), after which min(t + 1, m) slots hold a vector; empty
 * slots are zero vectors. Not thread-safe.
 */
final class RingPosition {
  private final int m;
  private long steps;

  /** An empty ring of {@code m} ≥ 1 slots (checked by the caller). */
  RingPosition(int m) {
    this.m = m;
  }

  /** Steps taken so far. */
  long steps() {
    return steps;
  }

  /** The slot the current step writes, t mod m. */
  int slot() {
    return (int) (steps % m);
  }

  /** Slots holding a vector once the current step's is written, min(t + 1, m). */
  int filled() {
    return (int) Math.min(steps + 1, m);
  }

  /** The slot the last step wrote; throws {@link IllegalStateException} before any step. */
  int lastSlot() {
    if (steps == 0) {
      throw new IllegalStateException("no step taken yet");
    }
    return (int) ((steps - 1) % m);
  }

  /** Slots holding a vector now, min(t, m). */
  int stored() {
    return (int) Math.min(steps, m);
  }

  /** Makes an unused ring stand after {@code steps} steps (a state import; steps ≥ 0, checked by the caller). */
  void restore(long steps) {
    if (this.steps != 0) {
      throw new IllegalStateException("ring: already took " + this.steps + " steps");
    }
    this.steps = steps;
  }

  /** Ends the current step. */
  void advance() {
    steps++;
  }
}
