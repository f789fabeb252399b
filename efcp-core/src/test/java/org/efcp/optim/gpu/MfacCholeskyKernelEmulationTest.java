package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.KernelEmulation.readResult;
import static org.efcp.optim.gpu.KernelEmulation.writeDoubles;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.efcp.optim.MfacCholeskyState;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * mfac_cholesky.cu's step kernels on the CPU emulation (test resource {@code emulation/cholesky_harness.cpp}).
 *
 * <p>Each of {@link MfacCholeskyKernel}'s kernels against the CPU {@link MfacCholeskyState}, for windows larger than
 * the block (m &gt; 256: each thread owns several columns, kernels mchol_step_2 and mchol_step_4 and their blocked
 * variants) and a head that crosses from one column of a thread to the next. Both start
 * from the same full, badly conditioned window (seven vectors of norm ≈ 30 in turn, d = 24 &lt; m, λ = 1e-5) with
 * the factor {@link MfacCholeskyState#factorFromScratch} gives (the CPU state refactors to it, the harness gets it as
 * the GPU state's host refresh uploads it), then insert the same vectors: every step M agrees with
 * {@link MfacCholeskyState#coefficientsForNewest} to 1e-11 (max-norm relative; only the back substitution sums in
 * another order), the drift maximum equals the CPU's largest check error so far (the update's arithmetic is the
 * CPU's, in the same order; the emulation does not contract to FMAs) and stays within
 * {@link MfacCholeskyState#driftTolerance}, and K ends as the window's Gram matrix.
 *
 * <p>The blocked kernel against the rows kernel from the same state: every step's M and drift maximum and the final K
 * and R are bitwise the same (the blocked kernel does each column's operations in the same order, and the emulation
 * does not contract to FMAs), for windows from 1 to 1024 (full and partial blocks of 32, one and four columns per
 * thread), heads that make the chronological order wrap inside a block and cross from one column of a thread to the
 * next, and the states that take the other branches: a Schur complement short of n within the tolerance (clamped),
 * one far short (reported as drift), and a factor whose checked column is off (reported by the drift check).
 * Skipped only where no g++ is on the PATH.
 */
class MfacCholeskyKernelEmulationTest {
  private static final int D = 24;
  private static final double DAMPING = 1e-5;
  private static final int DISTINCT = 7;

  @RegisterExtension
  static final KernelEmulation EMULATION = KernelEmulation.of("cholesky_harness");

  @ParameterizedTest(name = "m={0}, head={1}, {3}")
  @CsvSource({"300, 254, 6, ROWS", "600, 509, 6, ROWS", "300, 254, 6, BLOCKED", "600, 509, 6, BLOCKED"})
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
    Path in = writeDoubles(EMULATION.file("cholesky_in.bin"), input);
    Path out = EMULATION.file("cholesky_out.bin");
    EMULATION.run("cholesky_harness", m, DAMPING, steps, head, in, out, harnessName(kernel));

    ByteBuffer result = readResult(out);
    assertEquals(outputBytes(m, steps), result.remaining(), "harness output size");
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
      assertTrue(diff <= 1e-11 * norm, "step " + i + ": max |M_emulated - M_cpu| = " + diff + " at slot " + worst
          + ", max |M_cpu| = " + norm);
      double drift = result.getDouble();
      assertTrue(drift <= tolerance, "step " + i + ": drift " + drift + " > tolerance " + tolerance);
      assertTrue(Math.abs(drift - expectedDrift[i]) <= 1e-9 * expectedDrift[i],
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

  /** What the blocked-kernel comparison feeds both kernels. */
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

  @ParameterizedTest(name = "m={0}, head={1}, steps={2}, {3}")
  @CsvSource({
      "1, 0, 3, CLEAN", "5, 3, 7, CLEAN", "32, 17, 4, CLEAN", "33, 32, 4, CLEAN", "100, 90, 4, CLEAN",
      "300, 254, 4, CLEAN", "600, 509, 3, CLEAN", "1024, 1000, 2, CLEAN",
      "33, 5, 3, CLAMPED", "100, 60, 3, CLAMPED", "300, 255, 2, CLAMPED",
      "5, 4, 3, REPORTED", "300, 255, 3, REPORTED", "64, 40, 2, PERTURBED_FACTOR", "600, 2, 2, PERTURBED_FACTOR"})
  void blockedKernelIsBitwiseTheRowsKernel(int m, int head, int steps, Input input)
      throws IOException, InterruptedException {
    float[][] distinct = distinctVectors();
    float[][] window = new float[m][D];
    for (int j = 0; j < m; j++) {
      System.arraycopy(distinct[(3 * j + 1) % DISTINCT], 0, window[j], 0, D);
    }
    double[] gram = gram(window);
    double[] factor = new double[m * m];
    MfacCholeskyState.factorFromScratch(gram, m, head, DAMPING, factor);
    if (input == Input.PERTURBED_FACTOR) {
      for (int q = 0; q < m; q++) {
        factor[head * m + q] *= 1.001;
      }
    }
    List<double[]> in = new ArrayList<>(List.of(gram, factor));
    for (int i = 0; i < steps; i++) {
      in.add(insert(window, (head + i) % m, distinct[(5 * i + 2) % DISTINCT]));
    }
    int last = (head + steps - 1) % m;
    double tolerance = MfacCholeskyState.driftTolerance(m);
    if (input == Input.CLAMPED || input == Input.REPORTED) {
      // Σ y² does not depend on w_old: from the unperturbed step's new diagonal sqrt(S) (S = w_old/λ + n − Σ y²),
      // the w_old that makes the Schur complement n − tolerance·alpha/4 (alpha = w_old/λ + n), respectively n/2.
      byte[] clean = runHarness(m, head, steps, in, MfacCholeskyKernel.ROWS);
      double diagonal = littleEndian(clean).getDouble(8 * (steps * (m + 1) + m * m + last * (m + 1)));
      double[] w = in.get(in.size() - 1);
      double alpha = w[last] / DAMPING + m;
      double shortfall = input == Input.CLAMPED ? tolerance * alpha / 4 : m / 2.0;
      w[last] -= DAMPING * (diagonal * diagonal - m + shortfall);
    }

    byte[] rows = runHarness(m, head, steps, in, MfacCholeskyKernel.ROWS);
    byte[] blocked = runHarness(m, head, steps, in, MfacCholeskyKernel.BLOCKED);
    assertEquals(outputBytes(m, steps), rows.length, "harness output size");
    assertEquals(rows.length, blocked.length, "harness output size");
    int mismatch = Arrays.mismatch(rows, blocked);
    if (mismatch >= 0) {
      fail("blocked differs from rows first in " + describe(mismatch / 8, m, steps) + ": "
          + littleEndian(rows).getDouble(mismatch / 8 * 8) + " vs " + littleEndian(blocked).getDouble(mismatch / 8 * 8));
    }

    // The branch the input was made for was taken (M, the drift and R are real numbers throughout).
    ByteBuffer result = littleEndian(rows);
    double finalDrift = result.getDouble(8 * (steps * (m + 1) - 1));
    double lastDiagonal = result.getDouble(8 * (steps * (m + 1) + m * m + last * (m + 1)));
    for (int k = 0; k < rows.length / 8; k++) {
      assertTrue(Double.isFinite(result.getDouble(8 * k)), describe(k, m, steps) + " is not finite");
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

  /** Runs the harness with {@code kernel} on {@code input}; returns its output file. */
  private static byte[] runHarness(int m, int head, int steps, List<double[]> input, MfacCholeskyKernel kernel)
      throws IOException, InterruptedException {
    Path in = writeDoubles(EMULATION.file("cholesky_in.bin"), input);
    Path out = EMULATION.file("cholesky_out.bin");
    EMULATION.run("cholesky_harness", m, DAMPING, steps, head, in, out, harnessName(kernel));
    return Files.readAllBytes(out);
  }

  private static ByteBuffer littleEndian(byte[] bytes) {
    return ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
  }

  private static String harnessName(MfacCholeskyKernel kernel) {
    return kernel == MfacCholeskyKernel.BLOCKED ? "blocked" : "rows";
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
    k -= steps * (m + 1);
    return (k < m * m ? "K" : "R") + "[" + k % (m * m) / m + "][" + k % m + "]";
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
