package org.efcp.cuda;

import java.util.SplittableRandom;

/** Shared set-up of the gpu-tagged tests: checked launches and the device-0 context. */
final class GpuTests {
  private GpuTests() {}

  /**
   * The context of device 0, with every launch synchronised and checked, unless the run says otherwise (the
   * gpu-emulated run sets {@value Kernel#CHECKED_PROPERTY}=false: its driver checks launches when they are queued,
   * and a synchronisation after each would hide a missing one).
   */
  static GpuContext context() {
    System.getProperties().putIfAbsent(Kernel.CHECKED_PROPERTY, "true");
    return GpuContext.open(0);
  }

  static double[] randomDoubles(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = r.nextDouble(-1, 1);
    }
    return x;
  }

  static float[] randomFloats(int n, long seed) {
    SplittableRandom r = new SplittableRandom(seed);
    float[] x = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = (float) r.nextDouble(-1, 1);
    }
    return x;
  }
}
