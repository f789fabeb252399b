package org.efcp.optim;

import java.util.Random;

/** Not a test: times Top-k at the logistic-regression size (d = 769,000, k = 7,690). Run by hand. */
public final class TopKCompressorTiming {
  private TopKCompressorTiming() {}

  public static void main(String[] args) {
    int d = 769_000;
    int k = TopKCompressor.countFor(0.01, d);
    Random rnd = new Random(1);
    double[] gaussian = new double[d];
    for (int i = 0; i < d; i++) {
      gaussian[i] = rnd.nextGaussian();
    }
    time("gaussian", new TopKCompressor(d, k), gaussian);
    time("all zeros (every entry a candidate in every pass)", new TopKCompressor(d, k), new double[d]);
  }

  private static void time(String label, TopKCompressor topK, double[] a) {
    long sink = 0;
    for (int i = 0; i < 300; i++) {
      sink += topK.compress(a).indices()[0];
    }
    int reps = 500;
    long start = System.nanoTime();
    for (int i = 0; i < reps; i++) {
      sink += topK.compress(a).indices()[0];
    }
    double ms = (System.nanoTime() - start) / 1e6 / reps;
    System.out.printf("%s: %.3f ms per call (d=%d, k=%d, sink=%d)%n", label, ms, a.length, topK.k(), sink);
  }
}
