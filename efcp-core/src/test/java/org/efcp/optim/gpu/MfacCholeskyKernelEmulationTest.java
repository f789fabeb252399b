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
import java.util.List;

import org.efcp.optim.MfacCholeskyState;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * mfac_cholesky.cu's step kernel on the CPU emulation (test resource {@code emulation/cholesky_harness.cpp}) against
 * the CPU {@link MfacCholeskyState}, for windows larger than the block (m &gt; 256: each thread owns several columns,
 * kernels mchol_step_2 and mchol_step_4) and a head that crosses from one column of a thread to the next. Both start
 * from the same full, badly conditioned window (seven vectors of norm ≈ 30 in turn, d = 24 &lt; m, λ = 1e-5) with
 * the factor {@link MfacCholeskyState#factorFromScratch} gives (the CPU state refactors to it, the harness gets it as
 * the GPU state's host refresh uploads it), then insert the same vectors: every step M agrees with
 * {@link MfacCholeskyState#coefficientsForNewest} to 1e-11 (max-norm relative; only the back substitution sums in
 * another order), the drift maximum equals the CPU's largest check error so far (the update's arithmetic is the
 * CPU's, in the same order; the emulation does not contract to FMAs) and stays within
 * {@link MfacCholeskyState#driftTolerance}, and K ends as the window's Gram matrix. Skipped only where no g++ is on
 * the PATH.
 */
class MfacCholeskyKernelEmulationTest {
  private static final int D = 24;
  private static final double DAMPING = 1e-5;
  private static final int DISTINCT = 7;

  @RegisterExtension
  static final KernelEmulation EMULATION = KernelEmulation.of("cholesky_harness");

  @ParameterizedTest(name = "m={0}, head={1}")
  @CsvSource({"300, 254, 6", "600, 509, 6"})
  void stepKernelFollowsTheCpuStateFromAnyHead(int m, int head, int steps) throws IOException, InterruptedException {
    GradientSequence sequence = new GradientSequence(D, 1.0, 41);
    float[][] distinct = new float[DISTINCT][D];
    for (int v = 0; v < DISTINCT; v++) {
      double[] g = sequence.gradient(2 + 3 * v + v % 2);  // heavy-tailed steps (never 4 or 7 mod 9, never 0 or 1)
      for (int i = 0; i < D; i++) {
        distinct[v][i] = (float) g[i];
      }
    }
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
    EMULATION.run("cholesky_harness", m, DAMPING, steps, head, in, out);

    ByteBuffer result = readResult(out);
    assertEquals(8L * (steps * (m + 1L) + (long) m * m), result.remaining(), "harness output size");
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
