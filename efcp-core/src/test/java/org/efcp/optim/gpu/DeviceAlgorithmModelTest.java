package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.ludovic.netlib.lapack.LAPACK;
import org.efcp.optim.SparseVector;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.netlib.util.intW;

/**
 * The arithmetic of the device kernels (mirrored by {@link DeviceAlgorithmModel}: the remove-then-border rank-2
 * update of B ≈ A⁻¹, iterative refinement, drift check) against the explicit M-FAC formula
 * {@code u = (λ I + (1/m) Σ_j x_j x_jᵀ)⁻¹ c}, solved densely with LAPACK dgesv, over several passes of the ring.
 */
class DeviceAlgorithmModelTest {

  @ParameterizedTest
  @ValueSource(doubles = {1e-5, 1e-3, 1e-2, 1.0})
  void directionIsTheExplicitInverseOfTheDampedFisher(double damping) {
    int d = 150;
    int m = 5;
    int k = 12;
    DeviceAlgorithmModel model = new DeviceAlgorithmModel(d, m, k, damping);
    GradientSequence gradients = new GradientSequence(d, 0.125, 3);
    SparseVector[] window = new SparseVector[m];
    double[] u = new double[d];
    for (int t = 0; t < 4 * m + 2; t++) {
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
    assertEquals(0, model.refreshCount(), "refreshes");
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
