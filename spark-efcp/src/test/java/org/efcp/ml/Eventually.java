package org.efcp.ml;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Waiting for what Spark or a GPU finishes asynchronously, before a test asserts it. */
public final class Eventually {
  private Eventually() {}

  /** Returns once {@code condition} holds, or after {@code timeout}; the caller then asserts what it waited for. */
  public static void waitUntil(Duration timeout, BooleanSupplier condition) throws InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean() && System.nanoTime() < end) {
      Thread.sleep(20);
    }
  }
}
