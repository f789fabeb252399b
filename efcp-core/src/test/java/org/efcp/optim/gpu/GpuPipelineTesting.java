package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.fail;

import org.efcp.cuda.GpuContext;
import org.efcp.cuda.Kernel;

/** Shared helpers of the GPU pipeline tests: a checked device context and the max-norm comparison of u. */
final class GpuPipelineTesting {
  private GpuPipelineTesting() {
  }

  /** Device 0 with every kernel launch checked (synchronised and its error reported). */
  static GpuContext checkedContext() {
    System.setProperty(Kernel.CHECKED_PROPERTY, "true");
    return GpuContext.open(0);
  }

  /** Fails unless max_i |actual_i − expected_i| ≤ tolerance · max_i |expected_i| (a NaN always fails). */
  static void assertClose(int step, double[] expected, double[] actual, double tolerance) {
    double diff = 0;
    double norm = 0;
    int worst = -1;
    for (int i = 0; i < expected.length; i++) {
      double e = Math.abs(expected[i] - actual[i]);
      if (e > diff || Double.isNaN(e)) {
        diff = Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
        worst = i;
      }
      norm = Math.max(norm, Math.abs(expected[i]));
    }
    if (diff > tolerance * norm) {
      fail("step " + step + ": max |u_gpu - u_cpu| = " + diff + " at " + worst + " (gpu " + actual[worst] + ", cpu "
          + expected[worst] + "), max |u_cpu| = " + norm + ", relative " + diff / norm + " > " + tolerance);
    }
  }
}
