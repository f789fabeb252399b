package org.efcp.ml.train.gpu;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Per-partition values that must outlive a task (device-resident blocks: one task per step under the jobs engine)
 * but not the fit, in an executor JVM. Entries are grouped by fit key. A group is retired by {@link #releaseFit}
 * (the driver's release job at the fit's end) or, if that job did not reach this JVM, once it is no longer among
 * the {@code fitsKept} most recently used fits. A retired value is closed as soon as no lease holds it, so a task
 * still using it finishes first. Thread-safe.
 *
 * @param <V> the cached value, closed when retired
 */
final class FitScopedCache<V extends AutoCloseable> {
  private final int fitsKept;
  /** Fit key → partition → entry, least recently used fit first. */
  private final LinkedHashMap<String, Map<Integer, Entry<V>>> fits = new LinkedHashMap<>(4, 0.75f, true);

  FitScopedCache(int fitsKept) {
    if (fitsKept < 1) {
      throw new IllegalArgumentException("fitsKept: must be >= 1, got " + fitsKept);
    }
    this.fitsKept = fitsKept;
  }

  /**
   * A lease on the value of ({@code fit}, {@code partition}), created by {@code create} on first use (outside no
   * lock: creation may be slow, e.g. an upload); retires the groups of fits beyond the most recent {@code fitsKept}.
   */
  Lease<V> acquire(String fit, int partition, Supplier<V> create) {
    List<Entry<V>> retired = new ArrayList<>();
    Entry<V> entry;
    synchronized (this) {
      Map<Integer, Entry<V>> group = fits.computeIfAbsent(fit, f -> new HashMap<>());
      entry = group.computeIfAbsent(partition, p -> new Entry<>());
      entry.leases++;
      Iterator<Map.Entry<String, Map<Integer, Entry<V>>>> it = fits.entrySet().iterator();
      while (fits.size() > fitsKept && it.hasNext()) {
        Map.Entry<String, Map<Integer, Entry<V>>> oldest = it.next();
        if (!oldest.getKey().equals(fit)) {
          retired.addAll(oldest.getValue().values());
          it.remove();
        }
      }
    }
    closeRetired(retired);
    try {
      return new Lease<>(this, entry, entry.valueOrCreate(create));
    } catch (RuntimeException | Error e) {
      release(entry);
      throw e;
    }
  }

  /** Retires every value of {@code fit} (each closed once no lease holds it). */
  void releaseFit(String fit) {
    List<Entry<V>> retired = new ArrayList<>();
    synchronized (this) {
      Map<Integer, Entry<V>> group = fits.remove(fit);
      if (group != null) {
        retired.addAll(group.values());
      }
    }
    closeRetired(retired);
  }

  /** Retires the value of ({@code fit}, {@code partition}) (closed once no lease holds it). */
  void release(String fit, int partition) {
    List<Entry<V>> retired = new ArrayList<>();
    synchronized (this) {
      Map<Integer, Entry<V>> group = fits.get(fit);
      Entry<V> e = group == null ? null : group.remove(partition);
      if (e != null) {
        retired.add(e);
      }
    }
    closeRetired(retired);
  }

  /** Fits with values here (for tests and logs). */
  synchronized int fitCount() {
    return fits.size();
  }

  private void closeRetired(List<Entry<V>> retired) {
    for (Entry<V> e : retired) {
      V toClose;
      synchronized (this) {
        e.retired = true;
        toClose = e.leases == 0 ? e.take() : null;
      }
      close(toClose);
    }
  }

  private void release(Entry<V> entry) {
    V toClose;
    synchronized (this) {
      entry.leases--;
      toClose = entry.retired && entry.leases == 0 ? entry.take() : null;
    }
    close(toClose);
  }

  private static void close(AutoCloseable value) {
    if (value == null) {
      return;
    }
    try {
      value.close();
    } catch (Exception e) {
      throw new IllegalStateException("closing a cached device value failed: " + e.getMessage(), e);
    }
  }

  /** One partition's slot: the value, its lease count and whether its fit was retired. */
  private static final class Entry<V> {
    private V value;
    private int leases;
    private boolean retired;

    /** The value, created once; concurrent first users of one partition wait for the creator. */
    synchronized V valueOrCreate(Supplier<V> create) {
      if (value == null) {
        value = create.get();
      }
      return value;
    }

    /** Removes and returns the value (null if never created). */
    synchronized V take() {
      V v = value;
      value = null;
      return v;
    }
  }

  /** A task's hold on one value: use {@link #value()} until {@link #close()}. */
  static final class Lease<V extends AutoCloseable> implements AutoCloseable {
    private final FitScopedCache<V> cache;
    private final Entry<V> entry;
    private final V value;
    private boolean closed;

    private Lease(FitScopedCache<V> cache, Entry<V> entry, V value) {
      this.cache = cache;
      this.entry = entry;
      this.value = value;
    }

    V value() {
      return value;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        cache.release(entry);
      }
    }
  }
}
