package org.efcp.ml.train.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** Which values the executor-wide cache keeps, creates and closes, and when. */
class FitScopedCacheTest {

  /** A value that counts its closes. */
  private static final class Value implements AutoCloseable {
    private final String name;
    private int closes;

    Value(String name) {
      this.name = name;
    }

    @Override
    public void close() {
      closes++;
    }
  }

  @Test
  void aPartitionsValueIsCreatedOnceAndReusedAcrossLeasesOfTheSameFit() {
    FitScopedCache<Value> cache = new FitScopedCache<>(2);
    AtomicInteger created = new AtomicInteger();
    Value first;
    try (FitScopedCache.Lease<Value> a = cache.acquire("fit-1", 0, () -> new Value("p0#" + created.incrementAndGet()))) {
      first = a.value();
    }
    try (FitScopedCache.Lease<Value> b = cache.acquire("fit-1", 0, () -> new Value("p0#" + created.incrementAndGet()))) {
      assertSame(first, b.value());
    }
    try (FitScopedCache.Lease<Value> c = cache.acquire("fit-1", 1, () -> new Value("p1"))) {
      assertEquals("p1", c.value().name);
    }
    assertEquals(1, created.get());
    assertEquals(0, first.closes);
  }

  @Test
  void theOldestFitIsClosedWhenMoreFitsArriveThanAreKept() {
    FitScopedCache<Value> cache = new FitScopedCache<>(2);
    Value one = leaseAndReturn(cache, "fit-1", 0);
    Value two = leaseAndReturn(cache, "fit-2", 0);
    assertEquals(0, one.closes + two.closes, "two fits fit in the cache");
    Value three = leaseAndReturn(cache, "fit-3", 0);
    assertEquals(1, one.closes, "the least recently used fit is closed");
    assertEquals(0, two.closes + three.closes);
    assertEquals(2, cache.fitCount());
  }

  @Test
  void aRetiredValueStaysOpenUntilItsLastLeaseEnds() {
    FitScopedCache<Value> cache = new FitScopedCache<>(1);
    FitScopedCache.Lease<Value> held = cache.acquire("old", 3, () -> new Value("old"));
    Value newer = leaseAndReturn(cache, "new", 3);
    assertEquals(0, held.value().closes, "still leased by a running task");
    held.close();
    assertEquals(1, held.value().closes, "closed when the task lets go");
    held.close();
    assertEquals(1, held.value().closes, "a lease ends once");
    assertEquals(0, newer.closes);
  }

  @Test
  void releaseFitClosesThatFitOnlyAndTheNextUseCreatesAFreshValue() {
    FitScopedCache<Value> cache = new FitScopedCache<>(2);
    Value a = leaseAndReturn(cache, "a", 0);
    Value b = leaseAndReturn(cache, "b", 0);
    cache.releaseFit("a");
    assertEquals(1, a.closes);
    assertEquals(0, b.closes);
    Value again = leaseAndReturn(cache, "a", 0);
    assertFalse(again == a, "a released fit's value is not handed out again");
    cache.releaseFit("never-seen");
    assertEquals(2, cache.fitCount());
  }

  @Test
  void releasingOnePartitionClosesItAloneOnceItsLeaseEnds() {
    FitScopedCache<Value> cache = new FitScopedCache<>(2);
    Value other = leaseAndReturn(cache, "f", 1);
    FitScopedCache.Lease<Value> held = cache.acquire("f", 0, () -> new Value("f/0"));
    cache.release("f", 0);
    assertEquals(0, held.value().closes, "still leased");
    held.close();
    assertEquals(1, held.value().closes);
    assertEquals(0, other.closes);
    cache.release("f", 7);
    cache.release("nope", 0);
    assertSame(other, leaseAndReturn(cache, "f", 1));
  }

  @Test
  void aFailedCreationLeavesNoLeaseBehindAndIsRetried() {
    FitScopedCache<Value> cache = new FitScopedCache<>(1);
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> cache.acquire("f", 0, () -> {
          throw new IllegalStateException("upload failed");
        }));
    assertEquals("upload failed", e.getMessage());
    Value v = leaseAndReturn(cache, "f", 0);
    assertEquals("f/0", v.name);
    Value next = leaseAndReturn(cache, "g", 0);
    assertEquals(1, v.closes, "no leftover lease keeps the failed entry's successor open");
    assertTrue(next.closes == 0);
  }

  @Test
  void keepingFewerThanOneFitIsRefused() {
    assertThrows(IllegalArgumentException.class, () -> new FitScopedCache<Value>(0));
  }

  private static Value leaseAndReturn(FitScopedCache<Value> cache, String fit, int partition) {
    try (FitScopedCache.Lease<Value> lease = cache.acquire(fit, partition, () -> new Value(fit + "/" + partition))) {
      return lease.value();
    }
  }
}
