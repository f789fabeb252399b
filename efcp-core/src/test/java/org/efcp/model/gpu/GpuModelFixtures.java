package org.efcp.model.gpu;

import java.util.Random;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.Kernel;
import org.efcp.model.DenseBlock;

/** Device 0 with checked launches, and random blocks and parameters for the GPU model tests. */
final class GpuModelFixtures {
  private GpuModelFixtures() {
  }

  /** Device 0, every launch checked for errors unless the run sets {@value Kernel#CHECKED_PROPERTY}=false. */
  static GpuContext gpu() {
    System.getProperties().putIfAbsent(Kernel.CHECKED_PROPERTY, "true");
    return GpuContext.open(0);
  }

  /** Gaussian features, uniform labels, and weights 0 (every 11th row), 0.3, 0.5, 1 or 2.25. */
  static DenseBlock randomBlock(int n, int f, int c, Random rnd) {
    double[] x = gaussian(n * f, 1.0, rnd);
    double[] y = new double[n];
    for (int i = 0; i < n; i++) {
      y[i] = rnd.nextInt(c);
    }
    return new DenseBlock(n, f, x, y, weights(n, rnd));
  }

  /** Row weights 0 (every 11th row), 0.3, 0.5, 1 or 2.25. */
  static double[] weights(int n, Random rnd) {
    double[] choices = {0.3, 0.5, 1, 2.25};
    double[] w = new double[n];
    for (int i = 0; i < n; i++) {
      w[i] = i % 11 == 3 ? 0 : choices[rnd.nextInt(choices.length)];
    }
    return w;
  }

  static double[] gaussian(int count, double scale, Random rnd) {
    double[] v = new double[count];
    for (int k = 0; k < count; k++) {
      v[k] = scale * rnd.nextGaussian();
    }
    return v;
  }
}
