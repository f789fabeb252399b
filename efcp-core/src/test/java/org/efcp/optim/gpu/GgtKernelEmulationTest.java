package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.EmulationChecks.assertDirection;
import static org.efcp.optim.gpu.EmulationChecks.assertSelection;
import static org.efcp.optim.gpu.EmulationChecks.assertWindowRow;
import static org.efcp.optim.gpu.KernelEmulation.nextDoubles;
import static org.efcp.optim.gpu.KernelEmulation.readResult;
import static org.efcp.optim.gpu.KernelEmulation.writeDoubles;
import static org.efcp.optim.gpu.KernelEmulation.writeGradients;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ludovic.netlib.lapack.LAPACK;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import org.efcp.optim.DirectionPipeline;
import org.efcp.optim.ErrorFeedback;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.SparseVector;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.netlib.util.intW;

/**
 * The GGT kernels (rapids-kernels' ggt.cu with the reused topk.cu, sparse_mfac.cu and dense_mfac.cu kernels) on the
 * CPU CUDA emulation ({@link KernelEmulation}, harness {@code emulation/ggt_harness.cpp}) in the launch order of
 * {@link GpuSparseGgtPipeline} and {@link GpuDenseGgtPipeline}, against the CPU {@link DirectionPipeline} (LAPACK
 * dsyevd) on the same gradients: every step the sparse selection and error buffer, or the dense window row, are
 * bitwise the CPU's, u agrees to a max-norm relative {@value #U_TOLERANCE}, and the Jacobi step converged. The
 * shapes cover warm-up (empty slots), ring wrap-around, m = 1, odd m and m not a multiple of 32, d inside one block
 * and across several, ridge 1e-6 and ridge 0, and rank-deficient windows (d &lt; m, repeated and dependent
 * gradients). The Jacobi step alone is checked on a few symmetric matrices against LAPACK dsyev. Skipped only where
 * no g++ is on the PATH.
 */
class GgtKernelEmulationTest {
  private static final double U_TOLERANCE = 1e-7;
  private static final double SCALE = 0.125;

  @RegisterExtension
  static final KernelEmulation EMULATION = KernelEmulation.of("ggt_harness");

  @ParameterizedTest(name = "d={0}, m={1}, k={2}, eps={3}, ridge={4}, {6}")
  @CsvSource({
      "9001, 5, 150, 1e-5, 1e-6, 7, random",
      "4097, 3, 4096, 1e-3, 0, 5, random",
      "1, 1, 1, 1e-5, 1e-6, 4, random",
      "1, 1, 1, 1e-5, 0, 4, random",
      "3000, 13, 40, 1e-5, 1e-6, 15, random",
      "600, 5, 600, 1e-5, 0, 9, repeating",
      "600, 5, 600, 1e-5, 1e-6, 9, repeating"})
  void sparseGgtKernelsReproduceTheCpuPipeline(int d, int m, int k, double eps, double ridge, int steps,
      String kind) throws IOException, InterruptedException {
    Path in = writeGradients(EMULATION.file("sparse_gradients.bin"), steps, t -> gradient(d, t, kind));
    Path out = EMULATION.file("sparse_steps.bin");
    EMULATION.run("ggt_harness", "sparse", d, m, k, eps, ridge, steps, in, out);

    // A value > 1 is a count (1.5 counts as 1: the value 1 itself would be a density of 100 %).
    OptimizerConfig config = OptimizerConfig.builder(Method.SPARSE_GGT, TensorLayout.flat(d)).window(m)
        .density(k == 1 ? 1.5 : k).ggtEpsilon(eps).ridge(ridge).build();
    assertEquals(k, config.topK(), "CPU k");
    DirectionPipeline cpu = DirectionPipeline.create(config);
    ErrorFeedback errorFeedback = (ErrorFeedback) cpu.compressor();
    ByteBuffer result = readResult(out);
    assertEquals((long) steps * (8L * k + 16L * d + 4), result.remaining(), "harness output size");
    double[] u = new double[d];
    for (int t = 0; t < steps; t++) {
      cpu.direction(gradient(d, t, kind), u);
      assertSelection(t, (SparseVector) cpu.lastCompressed(), errorFeedback.error(), result);
      assertDirection(t, u, result, U_TOLERANCE);
      assertConverged(t, result.getInt());
    }
  }

  @ParameterizedTest(name = "d={0}, m={1}, eps={2}, ridge={3}, {5}")
  @CsvSource({
      "5001, 6, 1e-5, 1e-6, 9, random",
      "8200, 9, 1e-5, 0, 10, random",
      "1, 1, 1e-5, 1e-6, 4, random",
      "3, 2, 1e-5, 0, 5, random",
      "6, 11, 1e-5, 0, 13, random",
      "4, 7, 1e-5, 1e-6, 9, random",
      "7, 4, 1e-3, 1e-6, 9, random",
      "600, 7, 1e-5, 0, 9, repeating",
      "600, 7, 1e-5, 1e-6, 9, repeating"})
  void denseGgtKernelsReproduceTheCpuPipeline(int d, int m, double eps, double ridge, int steps, String kind)
      throws IOException, InterruptedException {
    Path in = writeGradients(EMULATION.file("dense_gradients.bin"), steps, t -> gradient(d, t, kind));
    Path out = EMULATION.file("dense_steps.bin");
    EMULATION.run("ggt_harness", "dense", d, m, eps, ridge, steps, in, out);

    DirectionPipeline cpu = DirectionPipeline.create(OptimizerConfig.builder(Method.DENSE_GGT, TensorLayout.flat(d))
        .window(m).ggtEpsilon(eps).ridge(ridge).build());
    ByteBuffer result = readResult(out);
    assertEquals((long) steps * (12L * d + 4), result.remaining(), "harness output size");
    double[] u = new double[d];
    for (int t = 0; t < steps; t++) {
      double[] g = gradient(d, t, kind);
      cpu.direction(g, u);
      assertWindowRow(t, g, result);
      assertDirection(t, u, result, U_TOLERANCE);
      assertConverged(t, result.getInt());
    }
  }

  /**
   * The Jacobi eigen step alone (ggt_coefficients with w = 0, whose β must then be 0): V is orthogonal, V diag(λ) Vᵀ
   * reconstructs K + ridge·I, and the sorted λ equal LAPACK dsyev's eigenvalues, each to 1e-13 relative to the
   * largest |λ|. Odd n exercises the padding; the matrices include rank-deficient, indefinite, clustered, zero and
   * already diagonal ones.
   */
  @ParameterizedTest(name = "n={0}, {1}, ridge={2}")
  @CsvSource({
      "1, random, 0", "2, random, 0", "7, random, 0", "33, random, 0", "100, random, 1e-6", "128, random, 0",
      "64, lowrank, 0", "40, indefinite, 0", "30, clustered, 0", "16, zero, 0", "9, diagonal, 0"})
  void jacobiDiagonalisesSymmetricMatrices(int n, String kind, double ridge) throws IOException, InterruptedException {
    double[] k = symmetric(n, kind);
    Path in = writeDoubles(EMULATION.file("matrix.bin"), List.of(k));
    Path out = EMULATION.file("eigen.bin");
    EMULATION.run("ggt_harness", "eigen", n, ridge, in, out);

    ByteBuffer result = readResult(out);
    assertEquals(4L + 8L * n + 8L * n * n, result.remaining(), "harness output size");
    int sweeps = result.getInt();
    double[] lambda = nextDoubles(result, n);
    double[] v = nextDoubles(result, n * n);  // row-major: v[r * n + i] = component r of eigenvector i
    double[] ridged = k.clone();
    for (int i = 0; i < n; i++) {
      ridged[i * n + i] += ridge;
    }
    double[] expected = lapackEigenvalues(ridged, n);
    double scale = Math.max(Math.abs(expected[0]), Math.abs(expected[n - 1]));
    double tolerance = 1e-13 * Math.max(scale, Double.MIN_NORMAL);
    assertTrue(sweeps < GpuGgtPipeline.MAX_SWEEPS, "Jacobi did not converge: " + sweeps + " sweeps");
    if (kind.equals("diagonal") || kind.equals("zero")) {
      assertEquals(0, sweeps, "sweeps on a diagonal matrix");
    }
    double[] sorted = lambda.clone();
    Arrays.sort(sorted);
    for (int i = 0; i < n; i++) {
      assertEquals(expected[i], sorted[i], tolerance, "eigenvalue #" + i + " (ascending)");
    }
    for (int r = 0; r < n; r++) {
      for (int c = 0; c < n; c++) {
        double rebuilt = 0;
        double gram = 0;
        for (int i = 0; i < n; i++) {
          rebuilt += v[r * n + i] * lambda[i] * v[c * n + i];
          gram += v[i * n + r] * v[i * n + c];
        }
        assertEquals(ridged[r * n + c], rebuilt, tolerance, "(V diag(λ) Vᵀ)[" + r + "][" + c + "]");
        assertEquals(r == c ? 1.0 : 0.0, gram, 1e-13, "(Vᵀ V)[" + r + "][" + c + "]");
      }
    }
  }

  private static void assertConverged(int t, int sweeps) {
    assertTrue(sweeps >= 0 && sweeps < GpuGgtPipeline.MAX_SWEEPS, "step " + t + ": Jacobi sweeps " + sweeps);
  }

  /** "random": {@link GradientSequence} (ties, zeros, heavy tails); "repeating": {@link RepeatingGradients}. */
  private static double[] gradient(int d, int t, String kind) {
    return kind.equals("random") ? new GradientSequence(d, SCALE, 29).gradient(t) : RepeatingGradients.gradient(d, t);
  }

  /** A symmetric n×n test matrix (row-major) of the given kind. */
  private static double[] symmetric(int n, String kind) {
    SplittableRandom random = new SplittableRandom(31L * n + kind.hashCode());
    double[] k = new double[n * n];
    switch (kind) {
      case "random", "lowrank" -> {
        // X Xᵀ with X n×r: positive semi-definite, rank min(n, r).
        int r = kind.equals("random") ? n + 3 : 5;
        double[] x = new double[n * r];
        for (int i = 0; i < x.length; i++) {
          x[i] = random.nextDouble(-1, 1);
        }
        for (int i = 0; i < n; i++) {
          for (int j = 0; j < n; j++) {
            double s = 0;
            for (int q = 0; q < r; q++) {
              s += x[i * r + q] * x[j * r + q];
            }
            k[i * n + j] = s;
          }
        }
      }
      case "indefinite" -> {
        for (int i = 0; i < n; i++) {
          for (int j = 0; j <= i; j++) {
            double a = random.nextDouble(-1, 1);
            k[i * n + j] = a;
            k[j * n + i] = a;
          }
        }
      }
      case "clustered" -> {
        // Q diag(1, 1, 1, 2, 2, 2, …) Qᵀ with Q from Householder reflections: eigenvalues of multiplicity 3.
        double[] q = new double[n * n];
        for (int i = 0; i < n; i++) {
          q[i * n + i] = 1;
        }
        for (int h = 0; h < 3; h++) {
          double[] w = new double[n];
          double norm = 0;
          for (int i = 0; i < n; i++) {
            w[i] = random.nextDouble(-1, 1);
            norm += w[i] * w[i];
          }
          for (int r = 0; r < n; r++) {
            double dot = 0;
            for (int i = 0; i < n; i++) {
              dot += q[r * n + i] * w[i];
            }
            for (int i = 0; i < n; i++) {
              q[r * n + i] -= 2 * dot * w[i] / norm;
            }
          }
        }
        for (int i = 0; i < n; i++) {
          for (int j = 0; j < n; j++) {
            double s = 0;
            for (int e = 0; e < n; e++) {
              s += q[i * n + e] * (1 + e / 3) * q[j * n + e];
            }
            k[i * n + j] = s;
          }
        }
      }
      case "diagonal" -> {
        for (int i = 0; i < n; i++) {
          k[i * n + i] = random.nextDouble(-2, 2);
        }
      }
      case "zero" -> {
      }
      default -> throw new IllegalArgumentException("kind: " + kind);
    }
    return k;
  }

  /** The eigenvalues of the symmetric n×n matrix {@code a}, ascending (LAPACK dsyev, values only). */
  private static double[] lapackEigenvalues(double[] a, int n) {
    double[] copy = a.clone();
    double[] w = new double[n];
    double[] work = new double[Math.max(1, 3 * n)];
    intW info = new intW(0);
    LAPACK.getInstance().dsyev("N", "U", n, copy, n, w, work, work.length, info);
    assertEquals(0, info.val, "dsyev info");
    return w;
  }
}
