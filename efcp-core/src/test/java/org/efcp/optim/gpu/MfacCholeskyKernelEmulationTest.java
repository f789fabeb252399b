package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.KernelEmulation.readResult;
import static org.efcp.optim.gpu.KernelEmulation.writeDoubles;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

import org.efcp.optim.MfacCholeskyState;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * mfac_cholesky.cu's step kernels on the CPU emulation (test resource {@code emulation/cholesky_harness.cpp}).
 *
 * <p>Each of {@link MfacCholeskyKernel}'s kernels against the CPU {@link MfacCholeskyState}, for a window within the
 * block (m = 300, one column per thread, mchol_step_1 / mchol_wave_1) and larger ones than the block of
 * {@value GpuMfacCholeskyState#STEP_THREADS} threads (m = 600 and 1100: each thread owns two, respectively four
 * columns, C = 2 and 4) with heads that cross from one column of a thread to the next. Both start from the same
 * full, badly conditioned window (seven vectors of norm ≈ 30 in turn, d = 24 &lt; m, λ = 1e-5, cond(A) ≈ 1e7) with
 * the factor {@link MfacCholeskyState#factorFromScratch} gives (the CPU state refactors to it, the harness gets it as
 * the GPU state's host refresh uploads it), then insert the same vectors: every step M agrees with
 * {@link MfacCholeskyState#coefficientsForNewest} to 2e-9 (max-norm relative: the kernel's rotations take an rsqrt
 * and products where the CPU divides, and the back substitution sums in another order; these last-bit differences,
 * amplified by the conditioning, measured at most 3.0e-10), the drift maximum agrees with the CPU's largest check
 * error so far ({@link #DRIFT_AGREEMENT}) and stays within {@link MfacCholeskyState#driftTolerance}, and K ends as
 * the window's Gram matrix.
 *
 * <p>The branches, with each kernel: from 1 to 1100 slots, a Schur complement short of n within the tolerance
 * (clamped to n exactly), one far short (reported as drift), and a factor whose checked column is off (reported by
 * the drift check).
 *
 * <p>The wavefront kernel against the rows kernel from the same state over a few steps: every step's M and drift
 * maximum and the final K and R are bitwise the same (it does each column's operations in the same order, and the
 * emulation does not contract to FMAs), for windows of 1 to 4096 slots (every C, a last warp of one column, rows
 * beyond the wavefront's ring of 1024 records) and heads that wrap, and with one warp lagging far behind the others.
 *
 * <p>The overlapped combination against the plain kernels, and its readers' waits against a stand-in producer
 * ({@code emulation/overlap_harness.cpp}). Skipped only where no g++ is on the PATH.
 */
class MfacCholeskyKernelEmulationTest {
  private static final int D = 24;
  private static final double DAMPING = 1e-5;
  private static final int DISTINCT = 7;
  /**
   * How far the kernel's drift maximum may be from the CPU's largest check error: both are residuals of factors that
   * agree to rounding (about 1e-16 here), so 16 units of 2^-52, absolute (measured: at most 4.7e-16).
   */
  private static final double DRIFT_AGREEMENT = 16 * 0x1p-52;

  @RegisterExtension
  static final KernelEmulation EMULATION = KernelEmulation.of("cholesky_harness", "overlap_harness");

  @ParameterizedTest(name = "m={0}, head={1}, {3}")
  @CsvSource({"300, 254, 6, ROWS", "600, 509, 6, ROWS", "1100, 1021, 4, ROWS",
      "300, 254, 6, WAVEFRONT", "600, 509, 6, WAVEFRONT", "1100, 1021, 4, WAVEFRONT"})
  void stepKernelFollowsTheCpuStateFromAnyHead(int m, int head, int steps, MfacCholeskyKernel kernel)
      throws IOException, InterruptedException {
    float[][] distinct = distinctVectors();
    // Fill the ring once and go on to `head`, so that the oldest vector is a real one.
    float[][] window = new float[m][D];
    MfacCholeskyState cpu = new MfacCholeskyState(m, DAMPING);
    int t = 0;
    for (; t < m + head; t++) {
      cpu.insert(t % m, insert(window, t % m, distinct[t % DISTINCT]));
    }
    assertEquals(head, cpu.head(), "CPU head");
    cpu.refactorFromScratch();
    double[] gram = gram(window);
    double[] factor = new double[m * m];
    MfacCholeskyState.factorFromScratch(gram, m, head, DAMPING, factor);

    List<double[]> input = new ArrayList<>(List.of(gram, factor));
    double[][] expectedM = new double[steps][m];
    double[] expectedDrift = new double[steps];
    double worstCheck = 0.0;
    for (int i = 0; i < steps; i++, t++) {
      int slot = t % m;
      double[] w = insert(window, slot, distinct[t % DISTINCT]);
      input.add(w);
      cpu.insert(slot, w);
      cpu.coefficientsForNewest(expectedM[i]);
      worstCheck = Math.max(worstCheck, cpu.lastCheckError());
      expectedDrift[i] = worstCheck;
    }
    assertEquals(1, cpu.refreshCount(), "the CPU state refreshed by itself: the two states would part");
    ByteBuffer result = run(m, head, steps, input, kernel);
    double tolerance = MfacCholeskyState.driftTolerance(m);
    for (int i = 0; i < steps; i++) {
      double diff = 0;
      double norm = 0;
      int worst = -1;
      for (int j = 0; j < m; j++) {
        double x = result.getDouble();
        double e = Double.isNaN(x) ? Double.POSITIVE_INFINITY : Math.abs(x - expectedM[i][j]);
        if (e > diff) {
          diff = e;
          worst = j;
        }
        norm = Math.max(norm, Math.abs(expectedM[i][j]));
      }
      assertTrue(diff <= 2e-9 * norm, "step " + i + ": max |M_emulated - M_cpu| = " + diff + " at slot " + worst
          + ", max |M_cpu| = " + norm);
      double drift = result.getDouble();
      assertTrue(drift <= tolerance, "step " + i + ": drift " + drift + " > tolerance " + tolerance);
      assertTrue(Math.abs(drift - expectedDrift[i]) <= DRIFT_AGREEMENT,
          "step " + i + ": drift maximum " + drift + ", CPU's largest check error " + expectedDrift[i]);
    }
    double[] finalGram = gram(window);
    for (int k = 0; k < m * m; k++) {
      double x = result.getDouble();
      if (Double.doubleToRawLongBits(x) != Double.doubleToRawLongBits(finalGram[k])) {
        fail("K[" + k / m + "][" + k % m + "] is " + x + " emulated, " + finalGram[k] + " from the window");
      }
    }
  }

  /** What the branch test feeds the kernel. */
  enum Input {
    /** The window's Gram matrix and factor, w of real vectors. */
    CLEAN,
    /** As CLEAN, the last step's w_old lowered so that the Schur complement is n − tolerance·alpha/4: clamped. */
    CLAMPED,
    /** As CLEAN, the last step's w_old lowered so that the Schur complement is n/2: reported as drift. */
    REPORTED,
    /** As CLEAN, the head row of R off by 1e-3 relative: the first step's drift check reports it. */
    PERTURBED_FACTOR
  }

  /**
   * Windows from 1 to 1100 slots (one, two and four columns per thread), heads that wrap the chronological order,
   * and the states that take the kernel's other branches, each with both kernels.
   */
  static Stream<Arguments> branchCases() {
    Stream<Arguments> cases = Stream.of(
        Arguments.of(1, 0, 3, Input.CLEAN), Arguments.of(5, 3, 7, Input.CLEAN), Arguments.of(32, 17, 4, Input.CLEAN),
        Arguments.of(33, 32, 4, Input.CLEAN), Arguments.of(513, 500, 3, Input.CLEAN),
        Arguments.of(1100, 1099, 2, Input.CLEAN), Arguments.of(33, 5, 3, Input.CLAMPED),
        Arguments.of(100, 60, 3, Input.CLAMPED), Arguments.of(600, 511, 2, Input.CLAMPED),
        Arguments.of(5, 4, 3, Input.REPORTED), Arguments.of(600, 511, 3, Input.REPORTED),
        Arguments.of(64, 40, 2, Input.PERTURBED_FACTOR), Arguments.of(600, 2, 2, Input.PERTURBED_FACTOR));
    return cases.flatMap(c -> Arrays.stream(MfacCholeskyKernel.values())
        .map(k -> Arguments.of(Stream.concat(Arrays.stream(c.get()), Stream.of(k)).toArray())));
  }

  /** Every output is a real number and the branch the input was made for was taken. */
  @ParameterizedTest(name = "m={0}, head={1}, steps={2}, {3}, {4}")
  @MethodSource("branchCases")
  void stepKernelTakesTheClampAndDriftBranches(int m, int head, int steps, Input input, MfacCholeskyKernel kernel)
      throws IOException, InterruptedException {
    List<double[]> in = cleanInput(m, head, steps);
    if (input == Input.PERTURBED_FACTOR) {
      double[] factor = in.get(1);
      for (int q = 0; q < m; q++) {
        factor[head * m + q] *= 1.001;
      }
    }
    int last = (head + steps - 1) % m;
    double tolerance = MfacCholeskyState.driftTolerance(m);
    if (input == Input.CLAMPED || input == Input.REPORTED) {
      // Σ y² does not depend on w_old: from the unperturbed step's new diagonal sqrt(S) (S = w_old/λ + n − Σ y²),
      // the w_old that makes the Schur complement n − tolerance·alpha/4 (alpha = w_old/λ + n), respectively n/2.
      double diagonal = run(m, head, steps, in, kernel).getDouble(8 * (steps * (m + 1) + m * m + last * (m + 1)));
      double[] w = in.get(in.size() - 1);
      double alpha = w[last] / DAMPING + m;
      double shortfall = input == Input.CLAMPED ? tolerance * alpha / 4 : m / 2.0;
      w[last] -= DAMPING * (diagonal * diagonal - m + shortfall);
    }

    ByteBuffer result = run(m, head, steps, in, kernel);
    double finalDrift = result.getDouble(8 * (steps * (m + 1) - 1));
    double lastDiagonal = result.getDouble(8 * (steps * (m + 1) + m * m + last * (m + 1)));
    for (int k = 0; k < result.limit() / 8; k++) {
      assertTrue(Double.isFinite(result.getDouble(8 * k)), "output double " + k + " is not finite");
    }
    switch (input) {
      case CLEAN -> assertTrue(finalDrift <= tolerance, "drift " + finalDrift + " > tolerance " + tolerance);
      case CLAMPED -> {
        assertTrue(finalDrift <= tolerance, "drift " + finalDrift + " > tolerance " + tolerance);
        assertEquals(Double.doubleToRawLongBits(Math.sqrt(m)), Double.doubleToRawLongBits(lastDiagonal),
            "the last step's Schur complement was not clamped to n: R_old,old = " + lastDiagonal);
      }
      case REPORTED -> {
        assertTrue(finalDrift > tolerance, "drift " + finalDrift + " not reported");
        assertEquals(Math.sqrt(m), lastDiagonal, "clamped diagonal");
      }
      case PERTURBED_FACTOR -> assertTrue(result.getDouble(8 * m) > 1e-4,
          "first step's drift " + result.getDouble(8 * m) + ", the checked column is off by 1e-3");
      default -> throw new AssertionError(input);
    }
  }

  /**
   * Both kernels from the same clean state for {@code steps} steps from {@code head}: the outputs are bitwise the same
   * (compared as raw bits; the first difference fails the test, named). C = 1 (m ≤ 512, with m = 33 a last warp of
   * one column), 2, 4 and 8; m = 1100, 2049 and 4096 have more rows than the wavefront's ring of 1024 records, so
   * records are replaced within a pass; every head but m = 1's makes the chronological order wrap, and each run of
   * steps passes slot m − 1.
   */
  @ParameterizedTest(name = "m={0}, head={1}, steps={2}")
  @CsvSource({"1, 0, 3", "2, 1, 4", "31, 29, 4", "33, 31, 4", "511, 509, 3", "513, 511, 3", "1024, 1022, 3",
      "1100, 1099, 2", "2049, 2047, 2", "4096, 4095, 1"})
  void wavefrontKernelIsBitwiseTheRowsKernel(int m, int head, int steps) throws IOException, InterruptedException {
    assertBitwiseTheRowsKernel(m, head, steps, Map.of());
  }

  /**
   * As {@link #wavefrontKernelIsBitwiseTheRowsKernel} with one warp of the wavefront kernel resumed only every 64th
   * round of the emulation's scheduler ({@code EFCP_EMULATED_SLOW_WARP}; otherwise the warps advance in lockstep and
   * never more than a row apart), so that the others run hundreds of rows ahead of it, as they may on a device. Warp
   * 11 owns slots 352..383 (and 864..895 at m = 1100): from head 384 at m = 600 its only pivots are the last 32
   * rows, and from head 600 at m = 1100 its two groups of pivots are 556 rows apart; either way it falls behind by
   * more than 512 rows. Checked: a ring of 512 records fails these two cases and no other, and so does a wait for a
   * row that ends one row early; in lockstep both pass.
   */
  @ParameterizedTest(name = "m={0}, head={1}, steps={2}, slow warp {3}")
  @CsvSource({"600, 384, 2, 11", "1100, 600, 2, 11"})
  void wavefrontKernelIsBitwiseTheRowsKernelWithAWarpLagging(int m, int head, int steps, int slowWarp)
      throws IOException, InterruptedException {
    assertBitwiseTheRowsKernel(m, head, steps, Map.of("EFCP_EMULATED_SLOW_WARP", slowWarp + ":64"));
  }

  /**
   * The overlapped combination ({@code mchol_overlap_step_C} / {@code mchol_overlap_wave_C}, {@link DenseMfacCombine})
   * in {@code emulation/overlap_harness.cpp}, which checks itself over {@code steps} steps from the empty state (the
   * warm-up's empty slots, then heads that wrap where steps &gt; m): R, K, M and the drift bitwise the plain kernel's,
   * every publication counting only rows whose M is stored (in groups of 32 up to m), u to 1e-12 of the slot-order
   * sum, the block counters back to 0; and each reader alone against a stand-in producer that publishes one row per
   * poll, the rest NaN, giving bitwise the same u (so no row is read before it is published). m = 33 and 37 end in a
   * partial chunk of 32 rows; d = 7000 gives a reader two column tiles, 300 with 3 or 7 consumers some empty ranges;
   * m = 600 and 1100 take two and four columns per step thread. It fails on a reader that waits for one row less,
   * and on a producer that counts one row more (tried).
   */
  @ParameterizedTest(name = "m={0}, d={1}, steps={2}, consumers={3}, {4}")
  @CsvSource({"1, 5, 3, 1, ROWS", "1, 5, 3, 1, WAVEFRONT", "37, 300, 45, 3, ROWS", "37, 300, 45, 3, WAVEFRONT",
      "33, 7000, 40, 1, ROWS", "33, 7000, 40, 1, WAVEFRONT", "100, 300, 110, 7, WAVEFRONT", "600, 50, 8, 2, ROWS",
      "600, 50, 8, 2, WAVEFRONT", "1100, 40, 3, 2, ROWS"})
  void overlappedCombinationIsThePlainStepAndWaitsForEveryRowItReads(int m, int d, int steps, int consumers,
      MfacCholeskyKernel kernel) throws IOException, InterruptedException {
    EMULATION.run("overlap_harness", m, d, steps, consumers, kernel.name().toLowerCase(Locale.ROOT));
  }

  /** Both kernels on the same clean input, the wavefront kernel with {@code environment}: bitwise equal outputs. */
  private static void assertBitwiseTheRowsKernel(int m, int head, int steps, Map<String, String> environment)
      throws IOException, InterruptedException {
    List<double[]> in = cleanInput(m, head, steps);
    ByteBuffer rows = run(m, head, steps, in, MfacCholeskyKernel.ROWS, Map.of());
    ByteBuffer wavefront = run(m, head, steps, in, MfacCholeskyKernel.WAVEFRONT, environment);
    for (int k = 0; k < rows.limit() / 8; k++) {
      double r = rows.getDouble(8 * k);
      double w = wavefront.getDouble(8 * k);
      if (Double.doubleToRawLongBits(r) != Double.doubleToRawLongBits(w)) {
        fail("wavefront differs from rows first in " + describe(k, m, steps) + ": " + w + " vs " + r);
      }
    }
  }

  /**
   * A full window of the distinct vectors in turn, its Gram matrix K and the factor of A = K/λ + m I in logical order
   * from {@code head} (as a host refresh uploads it), then w of the vector each of {@code steps} steps inserts into
   * slot (head + i) mod m: the harness's input, mutable.
   */
  private static List<double[]> cleanInput(int m, int head, int steps) {
    float[][] distinct = distinctVectors();
    float[][] window = new float[m][D];
    for (int j = 0; j < m; j++) {
      System.arraycopy(distinct[(3 * j + 1) % DISTINCT], 0, window[j], 0, D);
    }
    double[] gram = gram(window);
    double[] factor = new double[m * m];
    MfacCholeskyState.factorFromScratch(gram, m, head, DAMPING, factor);
    List<double[]> in = new ArrayList<>(List.of(gram, factor));
    for (int i = 0; i < steps; i++) {
      in.add(insert(window, (head + i) % m, distinct[(5 * i + 2) % DISTINCT]));
    }
    return in;
  }

  /** Runs the harness with {@code kernel} on {@code input}; returns its output, checked for size. */
  private static ByteBuffer run(int m, int head, int steps, List<double[]> input, MfacCholeskyKernel kernel)
      throws IOException, InterruptedException {
    return run(m, head, steps, input, kernel, Map.of());
  }

  /** As {@link #run(int, int, int, List, MfacCholeskyKernel)}, the emulation with {@code environment}. */
  private static ByteBuffer run(int m, int head, int steps, List<double[]> input, MfacCholeskyKernel kernel,
      Map<String, String> environment) throws IOException, InterruptedException {
    Path in = writeDoubles(EMULATION.file("cholesky_in.bin"), input);
    Path out = EMULATION.file("cholesky_out.bin");
    EMULATION.runWith(environment, "cholesky_harness", m, DAMPING, steps, head, in, out,
        kernel.name().toLowerCase(Locale.ROOT));
    ByteBuffer result = readResult(out);
    assertEquals(outputBytes(m, steps), result.remaining(), "harness output size");
    return result;
  }

  /** Per step M and the drift maximum, then K and R. */
  private static long outputBytes(int m, int steps) {
    return 8L * (steps * (m + 1L) + 2L * m * m);
  }

  /** Where double {@code k} of the harness output lies. */
  private static String describe(int k, int m, int steps) {
    if (k < steps * (m + 1)) {
      int step = k / (m + 1);
      int j = k % (m + 1);
      return j == m ? "step " + step + "'s drift maximum" : "step " + step + "'s M[" + j + "]";
    }
    int e = k - steps * (m + 1);
    return (e < m * m ? "K" : "R") + "[" + e % (m * m) / m + "][" + e % m + "]";
  }

  /** The window's vectors: heavy-tailed gradients (never 4 or 7 mod 9, never 0 or 1) rounded to float32. */
  private static float[][] distinctVectors() {
    GradientSequence sequence = new GradientSequence(D, 1.0, 41);
    float[][] distinct = new float[DISTINCT][D];
    for (int v = 0; v < DISTINCT; v++) {
      double[] g = sequence.gradient(2 + 3 * v + v % 2);
      for (int i = 0; i < D; i++) {
        distinct[v][i] = (float) g[i];
      }
    }
    return distinct;
  }

  /** Writes x into the window's slot; returns its dots with every slot (float64 sums of exact products). */
  private static double[] insert(float[][] window, int slot, float[] x) {
    System.arraycopy(x, 0, window[slot], 0, D);
    double[] w = new double[window.length];
    for (int j = 0; j < window.length; j++) {
      w[j] = dot(window[j], x);
    }
    return w;
  }

  private static double[] gram(float[][] window) {
    int m = window.length;
    double[] k = new double[m * m];
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++) {
        k[i * m + j] = dot(window[i], window[j]);
      }
    }
    return k;
  }

  private static double dot(float[] a, float[] b) {
    double s = 0.0;
    for (int i = 0; i < D; i++) {
      s += (double) a[i] * b[i];
    }
    return s;
  }
}
