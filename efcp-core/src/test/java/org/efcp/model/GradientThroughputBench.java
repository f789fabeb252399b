package org.efcp.model;

import dev.ludovic.netlib.blas.BLAS;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Throughput of {@link MultinomialLogisticRegression#addLossAndGradient} for 768 → 1000 classes on 8 blocks of
 * 1024 rows, with 1 and 2 threads (one model instance and gradient per thread, summed at the end), against the
 * bare pair of GEMMs of the same shapes. Prints one JSON line per case: the median of 10 runs after 3
 * warm-ups. With 2 Java threads set OPENBLAS_NUM_THREADS=1, or the native BLAS oversubscribes the cores.
 * Not a test; run with {@code java --add-modules=jdk.incubator.vector -cp ... }.
 */
public final class GradientThroughputBench {
  private static final int FEATURES = 768;
  private static final int CLASSES = 1000;
  private static final int BLOCK_ROWS = 1024;
  private static final int BLOCKS = 8;
  private static final int WARMUPS = 3;
  private static final int RUNS = 10;

  private GradientThroughputBench() {}

  /** One measured unit: blocks {@code [from, to)} on one thread, into its own gradient. */
  private interface Work {
    void run(int thread, int from, int to);
  }

  public static void main(String[] args) throws Exception {
    Random rnd = new Random(1);
    DenseBlock[] blocks = new DenseBlock[BLOCKS];
    for (int b = 0; b < BLOCKS; b++) {
      blocks[b] = ModelChecks.randomBlock(rnd, BLOCK_ROWS, FEATURES, CLASSES, false);
    }
    MultinomialLogisticRegression[] models = {
        new MultinomialLogisticRegression(FEATURES, CLASSES, true),
        new MultinomialLogisticRegression(FEATURES, CLASSES, true)};
    double[] params = ModelChecks.gaussian(rnd, models[0].numParameters(), 0.01);
    double[][] grads = new double[2][params.length];
    double[][] scores = new double[2][BLOCK_ROWS * CLASSES];
    BLAS blas = BLAS.getInstance();

    Work model = (t, from, to) -> {
      for (int b = from; b < to; b++) {
        models[t].addLossAndGradient(blocks[b], params, grads[t]);
      }
    };
    Work gemms = (t, from, to) -> {
      for (int b = from; b < to; b++) {
        blas.dgemm("T", "N", CLASSES, BLOCK_ROWS, FEATURES, 1.0, params, 0, FEATURES,
            blocks[b].features(), 0, FEATURES, 0.0, scores[t], 0, CLASSES);
        blas.dgemm("N", "T", FEATURES, CLASSES, BLOCK_ROWS, 1.0, blocks[b].features(), 0, FEATURES,
            scores[t], 0, CLASSES, 1.0, grads[t], 0, FEATURES);
      }
    };
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      for (int threads = 1; threads <= 2; threads++) {
        double[] medians = measure(new Work[] {model, gemms}, threads, grads, pool);
        report("addLossAndGradient", threads, medians[0], blas);
        report("dgemmPair", threads, medians[1], blas);
      }
    } finally {
      pool.shutdown();
    }
  }

  /**
   * Median seconds of one pass over all blocks, split over {@code threads}, gradients summed into grads[0], for
   * each of {@code works}; runs of the works alternate so that both see the same background load.
   */
  private static double[] measure(Work[] works, int threads, double[][] grads, ExecutorService pool)
      throws Exception {
    double[][] times = new double[works.length][RUNS];
    for (int r = -WARMUPS; r < RUNS; r++) {
      for (int w = 0; w < works.length; w++) {
        double seconds = timeOnePass(works[w], threads, grads, pool);
        if (r >= 0) {
          times[w][r] = seconds;
        }
      }
    }
    double[] medians = new double[works.length];
    for (int w = 0; w < works.length; w++) {
      Arrays.sort(times[w]);
      medians[w] = (times[w][RUNS / 2 - 1] + times[w][RUNS / 2]) / 2;
    }
    return medians;
  }

  private static double timeOnePass(Work work, int threads, double[][] grads, ExecutorService pool)
      throws Exception {
    for (double[] g : grads) {
      Arrays.fill(g, 0.0);
    }
    long start = System.nanoTime();
    if (threads == 1) {
      work.run(0, 0, BLOCKS);
    } else {
      Future<?> other = pool.submit(() -> work.run(1, BLOCKS / 2, BLOCKS));
      work.run(0, 0, BLOCKS / 2);
      other.get();
      double[] g0 = grads[0];
      double[] g1 = grads[1];
      for (int k = 0; k < g0.length; k++) {
        g0[k] += g1[k];
      }
    }
    return (System.nanoTime() - start) * 1e-9;
  }

  private static void report(String bench, int threads, double seconds, BLAS blas) {
    long rows = (long) BLOCKS * BLOCK_ROWS;
    double gemmFlops = 4.0 * rows * FEATURES * CLASSES;
    System.out.println(String.format(Locale.ROOT,
        "{\"bench\":\"%s\",\"threads\":%d,\"rows\":%d,\"blockRows\":%d,\"features\":%d,\"classes\":%d,"
            + "\"medianSeconds\":%.4f,\"rowsPerSecond\":%.0f,\"gemmGflops\":%.2f,\"blas\":\"%s\","
            + "\"openblasThreads\":\"%s\",\"cores\":%d}",
        bench, threads, rows, BLOCK_ROWS, FEATURES, CLASSES, seconds, rows / seconds, gemmFlops / seconds / 1e9,
        blas.getClass().getName(), System.getenv().getOrDefault("OPENBLAS_NUM_THREADS", "default"),
        Runtime.getRuntime().availableProcessors()));
  }
}
