package org.efcp.optim;

import java.util.concurrent.ForkJoinPool;
import java.util.stream.IntStream;

/**
 * Splits index ranges over the common fork-join pool. Callers must make each chunk's result independent of
 * how the range is split (each output entry written by exactly one chunk, summed in a fixed order), so that
 * results are bit-identical for any number of threads.
 */
public final class Parallel {

  /** Work on {@code [from, to)}. */
  @FunctionalInterface
  public interface RangeTask {
    void run(int from, int to);
  }

  private Parallel() {}

  /** Number of chunks worth using: the available processors (the caller works beside the pool's threads). */
  public static int threads() {
    return Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), ForkJoinPool.getCommonPoolParallelism() + 1));
  }

  /**
   * Runs {@code task} over {@code [0, n)} in up to {@link #threads()} contiguous chunks (inline when
   * {@code n < minPerChunk * 2} or only one thread is available).
   */
  public static void forRange(int n, int minPerChunk, RangeTask task) {
    int chunks = Math.min(threads(), Math.max(1, n / Math.max(1, minPerChunk)));
    if (chunks <= 1) {
      task.run(0, n);
      return;
    }
    IntStream.range(0, chunks).parallel().forEach(c -> task.run(
        (int) ((long) n * c / chunks), (int) ((long) n * (c + 1) / chunks)));
  }
}
