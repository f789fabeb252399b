package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.lang.management.ManagementFactory;
import java.util.Random;
import java.util.function.LongToDoubleFunction;
import org.junit.jupiter.api.Test;

/** The composed update θ ← (1 − γ)θ − η_t (μ v + clip(u)) checked against an independent reference (SGD: u = g). */
class EfcpOptimizerTest {
  private static final int D = 7;
  private static final int STEPS = 12;

  /** The update written out from the formulas, independently of the optimizer's code. */
  private static final class Reference {
    final double lr;
    final LongToDoubleFunction factor;
    final double mu;
    final double gamma;
    final double clip;
    final double[] theta;
    final double[] v;
    long t;

    Reference(double lr, LongToDoubleFunction factor, double mu, double gamma, double clip, double[] theta0) {
      this.lr = lr;
      this.factor = factor;
      this.mu = mu;
      this.gamma = gamma;
      this.clip = clip;
      this.theta = theta0.clone();
      this.v = new double[theta0.length];
    }

    /** Returns whether u was clipped. */
    boolean step(double[] g) {
      double[] u = g.clone();
      double n = 0;
      for (double x : u) {
        n += x * x;
      }
      n = Math.sqrt(n);
      boolean clipped = clip > 0 && n > clip;
      for (int i = 0; i < u.length; i++) {
        if (clipped) {
          u[i] = u[i] * (clip / n);
        }
        v[i] = mu * v[i] + u[i];
      }
      double eta = lr * factor.applyAsDouble(t);
      for (int i = 0; i < theta.length; i++) {
        theta[i] = (1 - gamma) * theta[i] - eta * v[i];
      }
      t++;
      return clipped;
    }
  }

  private static double[] randomVector(Random rnd, int n, double scale) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = scale * rnd.nextGaussian();
    }
    return x;
  }

  private static OptimizerConfig.Builder sgd() {
    return OptimizerConfig.builder(Method.SGD, TensorLayout.flat(D));
  }

  /** Runs optimizer and reference side by side over STEPS random gradients and compares θ, v and results. */
  private static void assertMatchesReference(OptimizerConfig config, LongToDoubleFunction factor, long seed) {
    Random rnd = new Random(seed);
    double[] theta = randomVector(rnd, D, 1.0);
    Reference ref = new Reference(config.learningRate(), factor, config.momentum(), config.weightDecay(),
        config.clipNorm(), theta);
    EfcpOptimizer opt = new EfcpOptimizer(config);
    int clippedSteps = 0;
    for (int t = 0; t < STEPS; t++) {
      // Gradient scales vary around the clip norms used below, so clipping switches on and off.
      double[] g = randomVector(rnd, D, t % 3 == 0 ? 3.0 : 0.2);
      double[] gCopy = g.clone();
      StepResult r = opt.step(theta, g);
      boolean refClipped = ref.step(g);
      assertArrayEquals(gCopy, g, 0.0, "g must not be modified");
      assertRelativeEquals(ref.theta, theta, "theta at step " + t);
      if (config.momentum() > 0) {
        assertRelativeEquals(ref.v, opt.momentumBuffer(), "v at step " + t);
      }
      assertEquals(t, r.step());
      assertEquals(config.learningRate() * factor.applyAsDouble(t), r.learningRate(), 1e-15 * config.learningRate());
      assertEquals(refClipped, r.clipped(), "clipped at step " + t);
      assertEquals(Math.sqrt(dot(g, g)), r.gradientNorm(), 1e-14 * r.gradientNorm());
      double expectedUNorm = refClipped ? config.clipNorm() : r.gradientNorm();
      assertEquals(expectedUNorm, r.directionNorm(), 1e-14 * expectedUNorm);
      assertNull(r.metrics());
      clippedSteps += r.clipped() ? 1 : 0;
    }
    assertEquals(STEPS, opt.stepCount());
    if (config.clipNorm() > 0) {
      assertTrue(clippedSteps > 0 && clippedSteps < STEPS, "clipping should be both on and off: " + clippedSteps);
    }
  }

  private static void assertRelativeEquals(double[] expected, double[] actual, String what) {
    assertEquals(expected.length, actual.length, what);
    for (int i = 0; i < expected.length; i++) {
      double tol = 1e-15 * Math.max(Math.abs(expected[i]), Double.MIN_NORMAL);
      assertEquals(expected[i], actual[i], tol, what + "[" + i + "]");
    }
  }

  private static double dot(double[] a, double[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  @Test
  void plainSgdSubtractsLearningRateTimesGradient() {
    assertMatchesReference(sgd().learningRate(0.3).build(), t -> 1.0, 1);
  }

  @Test
  void momentumAccumulatesWithoutDampening() {
    assertMatchesReference(sgd().learningRate(0.1).momentum(0.9).build(), t -> 1.0, 2);
  }

  @Test
  void cosineScheduleFollowsHalfCosineAndStaysAtZeroPastT() {
    long total = 8; // STEPS > total: steps past T keep the final factor 0
    assertMatchesReference(sgd().learningRate(0.5).schedule(LearningRateSchedule.cosine(total)).build(),
        t -> 0.5 * (1 + Math.cos(Math.PI * Math.min(t, total) / total)), 3);
  }

  @Test
  void linearScheduleDecaysToZeroAtT() {
    long total = 10;
    assertMatchesReference(sgd().learningRate(0.5).schedule(LearningRateSchedule.linear(total)).build(),
        t -> Math.max(0.0, 1.0 - (double) t / total), 4);
  }

  @Test
  void stepScheduleMultipliesByGammaAtEachBoundary() {
    // T = 10, fractions 0.5 and 0.75 → boundaries at steps 5 and 7 (floor(7.5)); gamma 0.1.
    LongToDoubleFunction f = t -> t < 5 ? 1.0 : t < 7 ? 0.1 : 0.1 * 0.1;
    assertMatchesReference(sgd().learningRate(0.5)
        .schedule(LearningRateSchedule.step(10, new double[] {0.5, 0.75}, 0.1)).build(), f, 5);
  }

  @Test
  void weightDecayShrinksThetaByOneMinusGammaWithoutLearningRate() {
    assertMatchesReference(sgd().learningRate(0.05).weightDecay(0.01).build(), t -> 1.0, 6);
  }

  @Test
  void clippingScalesTheDirectionToTheClipNormOnlyWhenAbove() {
    assertMatchesReference(sgd().learningRate(0.2).clipNorm(1.0).build(), t -> 1.0, 7);
  }

  @Test
  void allOptionsCombine() {
    long total = 9;
    assertMatchesReference(sgd().learningRate(0.3).momentum(0.8).weightDecay(0.02).clipNorm(1.0)
            .schedule(LearningRateSchedule.cosine(total)).build(),
        t -> 0.5 * (1 + Math.cos(Math.PI * Math.min(t, total) / total)), 8);
  }

  @Test
  void handComputedTwoStepExample() {
    // lr 0.5, μ 0.5, γ 0.1, clip 1: g0 = (3, 4) → u0 = (0.6, 0.8) clipped, v0 = u0,
    // θ1 = 0.9·(1, 1) − 0.5·(0.6, 0.8) = (0.6, 0.5).
    // g1 = (0.3, 0.4) (‖g1‖ = 0.5, not clipped) → v1 = 0.5·(0.6, 0.8) + (0.3, 0.4) = (0.6, 0.8),
    // θ2 = 0.9·(0.6, 0.5) − 0.5·(0.6, 0.8) = (0.24, 0.05).
    OptimizerConfig c = OptimizerConfig.builder(Method.SGD, TensorLayout.flat(2))
        .learningRate(0.5).momentum(0.5).weightDecay(0.1).clipNorm(1.0).build();
    EfcpOptimizer opt = new EfcpOptimizer(c);
    double[] theta = {1, 1};
    StepResult r0 = opt.step(theta, new double[] {3, 4});
    assertTrue(r0.clipped());
    assertEquals(5.0, r0.gradientNorm(), 0);
    assertEquals(1.0, r0.directionNorm(), 0);
    assertArrayEquals(new double[] {0.6, 0.5}, theta, 1e-15);
    StepResult r1 = opt.step(theta, new double[] {0.3, 0.4});
    assertFalse(r1.clipped());
    assertEquals(0.5, r1.directionNorm(), 1e-15);
    assertArrayEquals(new double[] {0.6, 0.8}, opt.momentumBuffer(), 1e-15);
    assertArrayEquals(new double[] {0.24, 0.05}, theta, 1e-15);
  }

  @Test
  void metricsAreComputedAgainstTheMomentumBuffer() {
    OptimizerConfig c = sgd().learningRate(0.1).momentum(0.9).build();
    EfcpOptimizer opt = new EfcpOptimizer(c);
    Random rnd = new Random(9);
    double[] theta = new double[D];
    opt.step(theta, randomVector(rnd, D, 1));
    double[] g = randomVector(rnd, D, 1);
    StepResult r = opt.step(theta, g, true);
    assertEquals(PreconditioningMetrics.compute(g, opt.momentumBuffer()), r.metrics());
    assertTrue(r.metrics().cosine() < 1 - 1e-6, "v differs from g after two steps");
  }

  @Test
  void resetRestartsFromStepZeroWithEmptyMomentum() {
    OptimizerConfig c = sgd().learningRate(0.1).momentum(0.9)
        .schedule(LearningRateSchedule.linear(20)).build();
    EfcpOptimizer used = new EfcpOptimizer(c);
    Random rnd = new Random(10);
    double[] scratch = new double[D];
    for (int t = 0; t < 5; t++) {
      used.step(scratch, randomVector(rnd, D, 1));
    }
    used.reset();
    assertEquals(0, used.stepCount());
    assertArrayEquals(new double[D], used.momentumBuffer(), 0.0);
    EfcpOptimizer fresh = new EfcpOptimizer(c);
    double[] a = randomVector(rnd, D, 1);
    double[] b = a.clone();
    for (int t = 0; t < 4; t++) {
      double[] g = randomVector(rnd, D, 1);
      assertEquals(fresh.step(b, g), used.step(a, g));
    }
    assertArrayEquals(b, a, 0.0);
  }

  @Test
  void badInputIsRejectedBeforeAnyStateChanges() {
    EfcpOptimizer opt = new EfcpOptimizer(sgd().momentum(0.5).build());
    double[] theta = {1, 2, 3, 4, 5, 6, 7};
    double[] before = theta.clone();
    IllegalArgumentException e1 = assertThrows(IllegalArgumentException.class,
        () -> opt.step(new double[D - 1], new double[D]));
    assertTrue(e1.getMessage().startsWith("theta: expected d = 7"), e1.getMessage());
    IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
        () -> opt.step(theta, new double[D + 1]));
    assertTrue(e2.getMessage().startsWith("gradient: expected d = 7"), e2.getMessage());
    double[] nan = new double[D];
    nan[3] = Double.NaN;
    IllegalArgumentException e3 = assertThrows(IllegalArgumentException.class, () -> opt.step(theta, nan));
    assertEquals("gradient: entry 3 is NaN", e3.getMessage());
    double[] inf = new double[D];
    inf[6] = Double.NEGATIVE_INFINITY;
    IllegalArgumentException e4 = assertThrows(IllegalArgumentException.class, () -> opt.step(theta, inf));
    assertEquals("gradient: entry 6 is -Infinity", e4.getMessage());
    assertArrayEquals(before, theta, 0.0);
    assertEquals(0, opt.stepCount());
    assertArrayEquals(new double[D], opt.momentumBuffer(), 0.0);
  }

  @Test
  void memoryCountsTheMomentumBufferOnlyWhenMomentumIsOn() {
    assertEquals(0, new EfcpOptimizer(sgd().build()).memoryBytes());
    assertNull(new EfcpOptimizer(sgd().build()).momentumBuffer());
    assertEquals(8L * D, new EfcpOptimizer(sgd().momentum(0.9).build()).memoryBytes());
  }

  @Test
  void stepsDoNotAllocateDSizedArrays() {
    java.lang.management.ThreadMXBean bean = ManagementFactory.getThreadMXBean();
    assumeTrue(bean instanceof com.sun.management.ThreadMXBean, "allocation counters need a HotSpot JVM");
    com.sun.management.ThreadMXBean sun = (com.sun.management.ThreadMXBean) bean;
    assumeTrue(sun.isThreadAllocatedMemorySupported(), "allocation counters unsupported");
    int d = 100_000;
    OptimizerConfig c = OptimizerConfig.builder(Method.SGD, TensorLayout.flat(d))
        .learningRate(0.01).momentum(0.9).weightDecay(1e-4).clipNorm(1.0).build();
    EfcpOptimizer opt = new EfcpOptimizer(c);
    double[] theta = new double[d];
    double[] g = randomVector(new Random(11), d, 1);
    for (int t = 0; t < 3; t++) {
      opt.step(theta, g); // scratch buffers are created on the first step
    }
    long tid = Thread.currentThread().getId();
    long before = sun.getThreadAllocatedBytes(tid);
    int steps = 20;
    for (int t = 0; t < steps; t++) {
      opt.step(theta, g);
    }
    long allocated = sun.getThreadAllocatedBytes(tid) - before;
    assertTrue(allocated < 8L * d, "20 steps allocated " + allocated + " bytes, one d-array is " + 8L * d);
  }
}
