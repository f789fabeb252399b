package org.efcp.optim;

/**
 * The slot bookkeeping every {@link GradientWindow} shares: the t-th insert (t from 0) goes to slot
 * {@code t mod m}, so the ring fills from slot 0 and then always overwrites the oldest vector.
 * Subclasses own the storage; they copy a vector into {@link #nextSlot()} and then call {@link #advance()}.
 */
abstract class RingWindow implements GradientWindow {
  private static final long serialVersionUID = 1L;

  /** m, the number of slots. */
  protected final int m;
  /** d, the length of each vector. */
  protected final int d;
  private long inserted;

  /** @throws IllegalArgumentException if m &lt; 1 or d &lt; 1 */
  RingWindow(int m, int d) {
    if (m < 1) {
      throw new IllegalArgumentException("m: must be >= 1, got " + m);
    }
    if (d < 1) {
      throw new IllegalArgumentException("d: must be >= 1, got " + d);
    }
    this.m = m;
    this.d = d;
  }

  @Override
  public final int capacity() {
    return m;
  }

  @Override
  public final int dimension() {
    return d;
  }

  @Override
  public final int nextSlot() {
    return (int) (inserted % m);
  }

  @Override
  public final long insertCount() {
    return inserted;
  }

  @Override
  public final void restore(CompressedVector[] slots, long insertCount) {
    if (inserted != 0) {
      throw new IllegalArgumentException("window: must be empty to restore, holds " + inserted + " inserts");
    }
    if (slots == null) {
      throw new IllegalArgumentException("slots: null");
    }
    if (insertCount < 0 || slots.length != Math.min(insertCount, m)) {
      throw new IllegalArgumentException("slots: " + insertCount + " inserts fill min(" + insertCount + ", " + m
          + ") slots, got " + slots.length + " vectors");
    }
    try {
      for (int s = 0; s < slots.length; s++) {
        if (slots[s] == null) {
          throw new IllegalArgumentException("slots: slot " + s + " is null");
        }
        insert(slots[s]);
      }
    } catch (RuntimeException e) {
      reset();
      throw e;
    }
    inserted = insertCount;
  }

  /** Throws IllegalArgumentException unless {@code slot} is in [0, m). */
  protected final void checkSlot(int slot) {
    if (slot < 0 || slot >= m) {
      throw new IllegalArgumentException("slot: must be in [0, " + m + "), got " + slot);
    }
  }

  /** Records that {@link #nextSlot()} now holds the newest vector; returns that slot. */
  protected final int advance() {
    int slot = nextSlot();
    inserted++;
    return slot;
  }

  /** Slots 0..filled()−1 hold vectors; the rest are still empty (zero). */
  protected final int filled() {
    return (int) Math.min(inserted, m);
  }

  /** Marks every slot empty again (subclasses clear their storage in {@link #reset()}). */
  protected final void forgetInserts() {
    inserted = 0;
  }
}
