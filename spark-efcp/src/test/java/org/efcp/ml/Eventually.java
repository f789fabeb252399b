package org.efcp.ml;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waiting for what Spark or a GPU finishes asynchronously, before a test asserts it. */
public final class Eventually {
  private Eventually() {}

  /**
   * Returns once {@code condition} holds (true), or after {@code timeout} (false); the caller then asserts what it
   * waited for, or reports why it did not come.
   */
  public static boolean waitUntil(Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() >= end) {
        return false;
      }
      Thread.sleep(20);
    }
    return true;
  }
}
