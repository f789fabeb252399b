package org.efcp.optim;

import java.util.Arrays;
import java.util.Random;

/**
 * Manual benchmark (not a test): the full sparse M-FAC step at the logistic-regression size (d = 769,000,
 * m = 1024, k = 7,690) and the O(m²) window update against a from-scratch LAPACK factorisation at m = 1024.
 *
 * <p>Run: {@code java --add-modules=jdk.incubator.vector -cp <test-classes:classes:deps> org.efcp.optim.MfacStepBench
 * [step|state|all]}.
 */
public final class MfacStepBench {
  private static final int D = 769_000;
  private static final int M = 1024;
  private static final int K = 7_690;
  private static final int TIMED_STEPS = 30;

  private MfacStepBench() {}

  public static void main(String[] args) {
    String what = args.length > 0 ? args[0] : "all";
    System.out.printf("threads=%d%n", Parallel.threads());
    if (!what.equals("step")) {
      benchState();
    }
    if (!what.equals("state")) {
      benchStep();
    }
  }

  private static SparseVector randomSparse(Random rnd, boolean[] taken, int[] scratch) {
    int count = 0;
    while (count < K) {
      int i = rnd.nextInt(D);
      if (!taken[i]) {
        taken[i] = true;
        scratch[count++] = i;
      }
    }
    int[] idx = Arrays.copyOf(scratch, K);
    Arrays.sort(idx);
    float[] val = new float[K];
    for (int q = 0; q < K; q++) {
      taken[idx[q]] = false;
      val[q] = (float) rnd.nextGaussian();
    }
    return new SparseVector(D, idx, val);
  }

  private static void benchStep() {
    Random rnd = new Random(1);
    boolean[] taken = new boolean[D];
    int[] scratch = new int[K];
    MfacPreconditioner mfac = new MfacPreconditioner(new SparseWindow(M, D, K), 1e-4);
    double[] u = new double[D];
    for (int t = 0; t < M + 64; t++) { // fill the window, then some JIT warm-up past the wrap-around
      mfac.update(randomSparse(rnd, taken, scratch), u);
    }
    SparseVector[] inputs = new SparseVector[TIMED_STEPS];
    for (int t = 0; t < TIMED_STEPS; t++) {
      inputs[t] = randomSparse(rnd, taken, scratch);
    }
    long[] step = new long[TIMED_STEPS];
    long[] windowUpdate = new long[TIMED_STEPS];
    for (int t = 0; t < TIMED_STEPS; t++) {
      long start = System.nanoTime();
      mfac.update(inputs[t], u);
      step[t] = System.nanoTime() - start;
      windowUpdate[t] = mfac.lastWindowUpdateNanos();
    }
    // The step's parts, timed separately on the same (full) window.
    GradientWindow window = mfac.window();
    double[] w = new double[M];
    double[] coef = new double[M];
    long[] dots = new long[TIMED_STEPS];
    long[] solve = new long[TIMED_STEPS];
    long[] combination = new long[TIMED_STEPS];
    for (int t = 0; t < TIMED_STEPS; t++) {
      long t0 = System.nanoTime();
      window.dots(inputs[t], w);
      long t1 = System.nanoTime();
      mfac.state().coefficients(w, coef);
      long t2 = System.nanoTime();
      Arrays.fill(u, 0.0);
      window.addCombination(coef, u);
      long t3 = System.nanoTime();
      dots[t] = t1 - t0;
      solve[t] = t2 - t1;
      combination[t] = t3 - t2;
    }
    System.out.printf("sparse M-FAC step d=%d m=%d k=%d: %s%n", D, M, K, summary(step));
    System.out.printf("  m×m window update (state.insert): %s%n", summary(windowUpdate));
    System.out.printf("  window.dots: %s%n", summary(dots));
    System.out.printf("  state.coefficients: %s%n", summary(solve));
    System.out.printf("  window.addCombination (incl. zeroing u): %s%n", summary(combination));
    System.out.printf("  refreshes: %d, memory: %.1f MB%n", mfac.state().refreshCount(), mfac.memoryBytes() / 1e6);
  }

  private static void benchState() {
    Random rnd = new Random(2);
    int dim = 2048;
    double damping = 1e-4;
    MfacCholeskyState state = new MfacCholeskyState(M, damping);
    double[][] vectors = new double[M][dim];
    double[] dots = new double[M];
    int inserts = 3 * M;
    long[] insert = new long[inserts];
    for (int t = 0; t < inserts; t++) {
      int slot = t % M;
      double[] x = vectors[slot];
      for (int i = 0; i < dim; i++) {
        x[i] = rnd.nextGaussian();
      }
      for (int j = 0; j < M; j++) {
        dots[j] = MfacReference.dot(vectors[j], x);
      }
      long start = System.nanoTime();
      state.insert(slot, dots);
      insert[t] = System.nanoTime() - start;
    }
    long[] lastInserts = Arrays.copyOfRange(insert, inserts - 200, inserts);
    long[] refactor = new long[5];
    for (int r = 0; r < refactor.length; r++) {
      long start = System.nanoTime();
      state.refactorFromScratch();
      refactor[r] = System.nanoTime() - start;
    }
    long[] coefficients = new long[50];
    double[] out = new double[M];
    for (int r = 0; r < coefficients.length; r++) {
      long start = System.nanoTime();
      state.coefficients(dots, out);
      coefficients[r] = System.nanoTime() - start;
    }
    System.out.printf("state m=%d: insert %s (refreshes during %d inserts: %d)%n", M, summary(lastInserts), inserts,
        state.refreshCount() - refactor.length);
    System.out.printf("  refactorFromScratch (dpotrf): %s%n", summary(refactor));
    System.out.printf("  coefficients: %s%n", summary(coefficients));
    System.out.printf("  median ratio refactor/insert: %.1f%n", (double) median(refactor) / median(lastInserts));
  }

  private static long median(long[] nanos) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }

  private static String summary(long[] nanos) {
    long[] s = nanos.clone();
    Arrays.sort(s);
    return String.format("median %.3f ms (min %.3f, max %.3f, n=%d)", s[s.length / 2] / 1e6, s[0] / 1e6,
        s[s.length - 1] / 1e6, s.length);
  }
}
