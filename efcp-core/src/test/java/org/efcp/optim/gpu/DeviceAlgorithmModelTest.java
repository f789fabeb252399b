package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ludovic.netlib.lapack.LAPACK;
import org.efcp.optim.DirectionPipeline;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.SparseVector;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.netlib.util.intW;

/**
 * The arithmetic of the device kernels (mirrored by {@link DeviceAlgorithmModel}: the remove-then-border rank-2
 * update of B ≈ A⁻¹, iterative refinement, drift check, host refresh) against the explicit M-FAC formula
 * {@code u = (λ I + (1/m) Σ_j x_j x_jᵀ)⁻¹ c}, solved densely with LAPACK dgesv, over several passes of the ring, and
 * against the CPU pipeline in the setting of the gpu test.
 */
class DeviceAlgorithmModelTest {

  @ParameterizedTest
  @ValueSource(doubles = {1e-5, 1e-3, 1e-2, 1.0})
  void directionIsTheExplicitInverseOfTheDampedFisher(double damping) {
    checkAgainstExplicitInverse(damping, 0);
  }

  @ParameterizedTest
  @ValueSource(doubles = {1e-5, 1e-2})
  void hostRefreshesBetweenUpdatesKeepTheExplicitInverse(double damping) {
    checkAgainstExplicitInverse(damping, 3);
  }

  /**
   * The setting of the gpu test (d = 20,011, m = 64, k = 200, three passes of the ring, gradient scale 1/8) at the
   * smallest damping: the device arithmetic stays far inside that test's 1e-5 of the CPU pipeline, with no refresh.
   */
  @Test
  void agreesWithTheCpuPipelineWhereTheGpuTestDoes() {
    int d = 20_011;
    int m = 64;
    int k = 200;
    double damping = 1e-5;
    DirectionPipeline cpu = DirectionPipeline.create(OptimizerConfig.builder(Method.SPARSE_MFAC, TensorLayout.flat(d))
        .window(m).density(k).damping(damping).build());
    DeviceAlgorithmModel model = new DeviceAlgorithmModel(d, m, k, damping);
    GradientSequence gradients = new GradientSequence(d, 0.125, 17);
    double[] uCpu = new double[d];
    double[] uModel = new double[d];
    for (int t = 0; t < 3 * m; t++) {
      double[] g = gradients.gradient(t);
      cpu.direction(g, uCpu);
      model.direction(g, uModel);
      double diff = 0;
      double norm = 0;
      for (int i = 0; i < d; i++) {
        diff = Math.max(diff, Math.abs(uCpu[i] - uModel[i]));
        norm = Math.max(norm, Math.abs(uCpu[i]));
      }
      assertTrue(diff <= 1e-7 * norm, "step " + t + ": max |u_model - u_cpu| = " + diff + ", max |u_cpu| = " + norm);
    }
    assertEquals(0, model.refreshCount(), "refreshes");
  }

  /** Runs the model against the explicit formula; {@code refreshEvery} > 0 forces a host refresh that often. */
  private static void checkAgainstExplicitInverse(double damping, int refreshEvery) {
    int d = 150;
    int m = 5;
    int k = 12;
    DeviceAlgorithmModel model = new DeviceAlgorithmModel(d, m, k, damping);
    GradientSequence gradients = new GradientSequence(d, 0.125, 3);
    SparseVector[] window = new SparseVector[m];
    double[] u = new double[d];
    int forced = 0;
    for (int t = 0; t < 4 * m + 2; t++) {
      if (refreshEvery > 0 && t % refreshEvery == refreshEvery - 1) {
        model.refresh();
        forced++;
      }
      model.direction(gradients.gradient(t), u);
      SparseVector c = model.lastCompressed();
      window[t % m] = c;
      double[] expected = explicitDirection(window, c, d, m, damping);
      double diff = 0;
      double norm = 0;
      for (int i = 0; i < d; i++) {
        diff = Math.max(diff, Math.abs(u[i] - expected[i]));
        norm = Math.max(norm, Math.abs(expected[i]));
      }
      assertTrue(diff <= 1e-8 * norm, "step " + t + ": max |u - u_explicit| = " + diff + ", max |u_explicit| = " + norm);
    }
    assertEquals(forced, model.refreshCount(), "refreshes (none beyond the forced ones)");
  }

  /** Solves (λ I + (1/m) Σ_j x_j x_jᵀ) u = c densely (column-major d×d, dgesv). */
  private static double[] explicitDirection(SparseVector[] window, SparseVector c, int d, int m, double damping) {
    double[] f = new double[d * d];
    for (int i = 0; i < d; i++) {
      f[i * d + i] = damping;
    }
    double[] x = new double[d];
    for (SparseVector v : window) {
      if (v == null) {
        continue;
      }
      v.toDense(x);
      for (int i = 0; i < d; i++) {
        for (int j = 0; j < d; j++) {
          f[j * d + i] += x[i] * x[j] / m;
        }
      }
    }
    double[] rhs = new double[d];
    c.toDense(rhs);
    intW info = new intW(0);
    LAPACK.getInstance().dgesv(d, 1, f, d, new int[d], rhs, d, info);
    assertEquals(0, info.val, "dgesv info");
    return rhs;
  }
}
