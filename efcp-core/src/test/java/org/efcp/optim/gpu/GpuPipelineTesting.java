package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.Kernel;
import org.junit.jupiter.api.function.Executable;

/**
 * Shared helpers of the GPU pipeline tests: a checked device context, argument checks, the device API against the host
 * API, and the comparisons with the CPU pipeline (u, the window, the error buffer, memory and refreshes).
 */
final class GpuPipelineTesting {
  private GpuPipelineTesting() {
  }

  /**
   * Device 0 with every kernel launch checked (synchronised and its error reported), unless the run sets
   * {@value Kernel#CHECKED_PROPERTY}=false (the gpu-emulated run, whose driver checks launches when they are queued).
   */
  static GpuContext checkedContext() {
    System.getProperties().putIfAbsent(Kernel.CHECKED_PROPERTY, "true");
    return GpuContext.open(0);
  }

  /** Fails unless max_i |actual_i − expected_i| ≤ tolerance · max_i |expected_i| (a NaN always fails). */
  static void assertClose(int step, double[] expected, double[] actual, double tolerance) {
    assertRelative(step, "u", expected, actual, tolerance, maxAbs(expected));
  }

  /**
   * Fails unless max_i |actual_i − expected_i| ≤ tolerance · scale (a NaN always fails); returns that maximum over
   * scale.
   */
  static double assertRelative(int step, String what, double[] expected, double[] actual, double tolerance,
      double scale) {
    double diff = 0;
    int worst = -1;
    for (int i = 0; i < expected.length; i++) {
      double e = Math.abs(expected[i] - actual[i]);
      if (e > diff || Double.isNaN(e)) {
        diff = Double.isNaN(e) ? Double.POSITIVE_INFINITY : e;
        worst = i;
      }
    }
    if (diff > tolerance * scale) {
      fail("step " + step + ": " + what + " max |gpu - cpu| = " + diff + " at " + worst + " (gpu " + actual[worst]
          + ", cpu " + expected[worst] + "), scale " + scale + ", relative " + diff / scale + " > " + tolerance);
    }
    return diff / scale;
  }

  /** max_i |x_i|. */
  static double maxAbs(double[] x) {
    double max = 0;
    for (double v : x) {
      max = Math.max(max, Math.abs(v));
    }
    return max;
  }

  /**
   * A fresh pipeline of dimension 100 rejects buffers and arrays of the wrong size and a NaN gradient, takes no
   * step doing so, and {@code lastResult} (a "last step" accessor) throws IllegalStateException before any step.
   */
  static void assertRejectsBadArguments(GpuContext ctx, GpuDirectionPipeline p, Executable lastResult) {
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

  /** Fails unless {@code construct} throws IllegalArgumentException whose message starts with "parameter:". */
  static void assertRejects(String parameter, Executable construct) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, construct);
    assertTrue(e.getMessage().startsWith(parameter + ":"), e.getMessage());
  }

  /** Compares one step's u through the host API with u through the device API (see assertDeviceApiMatchesHostApi). */
  interface StepComparison {
    void compare(int step, double[] uHost, double[] uDevice);
  }

  /**
   * Feeds {@code steps} gradients of {@code gradients} to {@code host} through {@link GpuDirectionPipeline#direction}
   * and to {@code device} through {@link GpuDirectionPipeline#directionDevice} (u into a buffer 3 doubles longer than
   * d), compares each step's u with {@code comparison}, and checks the device pipeline's step count.
   */
  static void assertDeviceApiMatchesHostApi(GpuContext ctx, GpuDirectionPipeline host, GpuDirectionPipeline device,
      GradientSequence gradients, int steps, StepComparison comparison) {
    int d = host.dimension();
    double[] uHost = new double[d];
    double[] uDevice = new double[d];
    try (DeviceBuffer g = ctx.allocate(8L * d);
        DeviceBuffer u = ctx.allocate(8L * (d + 3))) {
      for (int t = 0; t < steps; t++) {
        double[] grad = gradients.gradient(t);
        host.direction(grad, uHost);
        g.copyFrom(grad, 0, d, 0);
        device.directionDevice(g, u);
        device.stream().synchronize();
        u.copyTo(uDevice, 0, d, 0);
        comparison.compare(t, uHost, uDevice);
      }
    }
    assertEquals(steps, device.stepCount());
  }

  /** Fails unless u through the device API is bitwise u through the host API. */
  static void assertSameBits(int step, double[] uHost, double[] uDevice) {
    for (int i = 0; i < uHost.length; i++) {
      if (Double.doubleToRawLongBits(uHost[i]) != Double.doubleToRawLongBits(uDevice[i])) {
        fail("step " + step + ": u[" + i + "] is " + uDevice[i] + " through the device API, " + uHost[i]
            + " through the host API");
      }
    }
  }

  /** Fails unless the float32 window row is bitwise (float) g. */
  static void assertWindowRowIsFloatOf(int step, double[] g, float[] row) {
    for (int i = 0; i < g.length; i++) {
      if (Float.floatToRawIntBits(row[i]) != Float.floatToRawIntBits((float) g[i])) {
        fail("step " + step + ": window entry " + i + " is " + row[i] + " on the GPU, (float) g = " + (float) g[i]);
      }
    }
  }

  /** Fails unless the GPU's Top-k indices are the CPU's. */
  static void assertSameIndices(int step, int[] expected, int[] actual) {
    assertEquals(expected.length, actual.length, "step " + step + ": number of indices");
    for (int q = 0; q < expected.length; q++) {
      if (expected[q] != actual[q]) {
        fail("step " + step + ": index #" + q + " is " + actual[q] + " on the GPU, " + expected[q] + " on the CPU");
      }
    }
  }

  /** Fails unless the GPU's Top-k values are bitwise the CPU's. */
  static void assertSameValues(int step, float[] expected, float[] actual) {
    assertEquals(expected.length, actual.length, "step " + step + ": number of values");
    for (int q = 0; q < expected.length; q++) {
      if (Float.floatToRawIntBits(expected[q]) != Float.floatToRawIntBits(actual[q])) {
        fail("step " + step + ": value #" + q + " is " + actual[q] + " on the GPU, " + expected[q] + " on the CPU");
      }
    }
  }

  /** Fails unless the GPU's error buffer is bitwise the CPU's. */
  static void assertSameError(int step, double[] expected, double[] actual) {
    for (int i = 0; i < expected.length; i++) {
      if (Double.doubleToRawLongBits(expected[i]) != Double.doubleToRawLongBits(actual[i])) {
        fail("step " + step + ": error buffer entry " + i + " is " + actual[i] + " on the GPU, " + expected[i]
            + " on the CPU");
      }
    }
  }

  /**
   * Fails unless fixed ≤ memory ≤ (fixed + scratch) · 5/4 + 64 KiB: the pool rounds each buffer up by less than a
   * quarter.
   */
  static void assertMemoryBetween(long memory, long fixed, long scratch, String breakdown) {
    assertTrue(memory >= fixed && memory <= (fixed + scratch) * 5 / 4 + (1 << 16),
        "memoryBytes " + memory + " for " + breakdown);
  }

  /** Forces a host refresh of the m×m state on every {@code every}-th step ({@code every} ≤ 0: never); 1 if forced. */
  static int refreshIfDue(GpuMfacPipelineBase<?> gpu, int step, int every) {
    if (every > 0 && step % every == every - 1) {
      gpu.refresh();
      return 1;
    }
    return 0;
  }

  /** Fails unless the refreshes are the forced ones plus at most two, and the last drift is within tolerance. */
  static void assertFewRefreshes(GpuMfacPipelineBase<?> gpu, int forced, int steps) {
    assertTrue(gpu.refreshCount() >= forced && gpu.refreshCount() <= forced + 2,
        "refreshCount " + gpu.refreshCount() + " after " + steps + " steps with " + forced + " forced");
    assertTrue(gpu.lastDrift() <= gpu.driftTolerance(),
        "lastDrift " + gpu.lastDrift() + " > tolerance " + gpu.driftTolerance());
  }
}
