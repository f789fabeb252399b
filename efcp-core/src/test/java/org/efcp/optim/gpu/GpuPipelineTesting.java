package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.Kernel;
import org.junit.jupiter.api.function.Executable;

/** Shared helpers of the GPU pipeline tests: a checked device context, argument checks and the comparison of u. */
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

  /**
   * A fresh pipeline of dimension 100 rejects buffers and arrays of the wrong size and a NaN gradient, takes no
   * step doing so, and {@code lastResult} (a "last step" accessor) throws IllegalStateException before any step.
   */
  static void assertRejectsBadArguments(GpuContext ctx, GpuMfacPipelineBase<?> p, Executable lastResult) {
    assertEquals(100, p.dimension());
    try (DeviceBuffer small = ctx.allocate(8L * 99);
        DeviceBuffer ok = ctx.allocate(8L * 100)) {
      IllegalArgumentException g = assertThrows(IllegalArgumentException.class, () -> p.directionDevice(small, ok));
      assertTrue(g.getMessage().startsWith("g:"), g.getMessage());
      IllegalArgumentException u = assertThrows(IllegalArgumentException.class, () -> p.directionDevice(ok, small));
      assertTrue(u.getMessage().startsWith("u:"), u.getMessage());
      assertThrows(IllegalStateException.class, lastResult);
      assertThrows(IllegalArgumentException.class, () -> p.direction(new double[100], new double[99]));
      double[] bad = new double[100];
      bad[7] = Double.NaN;
      assertThrows(IllegalArgumentException.class, () -> p.direction(bad, new double[100]));
      assertEquals(0, p.stepCount());
    }
  }
}
