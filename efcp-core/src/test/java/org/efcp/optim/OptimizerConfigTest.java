package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

class OptimizerConfigTest {
  private static final TensorLayout LAYOUT = TensorLayout.parse("5x8,20");

  private static void assertRejected(Method method, String parameter, UnaryOperator<OptimizerConfig.Builder> set) {
    OptimizerConfig.Builder b = set.apply(OptimizerConfig.builder(method, LAYOUT));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build, parameter);
    assertTrue(e.getMessage().startsWith(parameter + ":"), "message should name " + parameter + ": " + e.getMessage());
  }

  private static void assertRejected(String parameter, UnaryOperator<OptimizerConfig.Builder> set) {
    assertRejected(Method.SGD, parameter, set);
  }

  @Test
  void defaultsFollowThePaper() {
    OptimizerConfig mfac = OptimizerConfig.builder(Method.DENSE_MFAC, LAYOUT).build();
    assertEquals(1024, mfac.window());
    assertEquals(0.01, mfac.density());
    assertEquals(1e-5, mfac.damping());
    assertEquals(1e-5, mfac.ggtEpsilon());
    assertEquals(1e-10, mfac.adagradEpsilon());
    assertEquals(4, mfac.rank());
    assertEquals(1e-6, mfac.ridge());
    assertEquals(0, mfac.seed());
    assertEquals(1.0, mfac.learningRate());
    assertEquals(1.0, mfac.schedule().factor(12345));
    assertEquals(0.0, mfac.momentum());
    assertEquals(0.0, mfac.weightDecay());
    assertEquals(0.0, mfac.clipNorm());
    assertEquals(60, mfac.dimension());
    assertEquals(100, OptimizerConfig.builder(Method.DENSE_GGT, LAYOUT).build().window());
  }

  @Test
  void windowIsZeroForMethodsWithoutAWindow() {
    assertEquals(0, OptimizerConfig.builder(Method.SGD, LAYOUT).window(16).build().window());
    assertEquals(0, OptimizerConfig.builder(Method.ADAGRAD_EF, LAYOUT).density(0.1).window(16).build().window());
    assertEquals(16, OptimizerConfig.builder(Method.SPARSE_GGT, LAYOUT).density(0.1).window(16).build().window());
  }

  @Test
  void toBuilderRoundTripsEveryValue() {
    LearningRateSchedule cosine = LearningRateSchedule.cosine(100);
    OptimizerConfig c = OptimizerConfig.builder(Method.LOWRANK_MFAC, LAYOUT).window(32).density(0.2)
        .damping(1e-3).ggtEpsilon(1e-4).adagradEpsilon(1e-9).rank(3).ridge(1e-5).seed(7).learningRate(0.1)
        .schedule(cosine).momentum(0.9).weightDecay(1e-4).clipNorm(10).build();
    OptimizerConfig d = c.toBuilder().build();
    assertEquals(c.method(), d.method());
    assertEquals(c.layout(), d.layout());
    assertEquals(32, d.window());
    assertEquals(0.2, d.density());
    assertEquals(1e-3, d.damping());
    assertEquals(1e-4, d.ggtEpsilon());
    assertEquals(1e-9, d.adagradEpsilon());
    assertEquals(3, d.rank());
    assertEquals(1e-5, d.ridge());
    assertEquals(7, d.seed());
    assertEquals(0.1, d.learningRate());
    assertSame(cosine, d.schedule());
    assertEquals(0.9, d.momentum());
    assertEquals(1e-4, d.weightDecay());
    assertEquals(10, d.clipNorm());
  }

  @Test
  void everyRejectionNamesItsParameter() {
    assertRejected(Method.DENSE_MFAC, "window", b -> b.window(-1));
    for (Method topK : new Method[] {Method.SPARSE_MFAC, Method.SPARSE_GGT, Method.ADAGRAD_EF}) {
      for (double bad : new double[] {0, -0.5, Double.NaN, Double.POSITIVE_INFINITY}) {
        assertRejected(topK, "density", b -> b.density(bad));
      }
    }
    for (double bad : new double[] {0, -1, Double.NaN, Double.POSITIVE_INFINITY}) {
      assertRejected("damping", b -> b.damping(bad));
      assertRejected("ggtEpsilon", b -> b.ggtEpsilon(bad));
      assertRejected("learningRate", b -> b.learningRate(bad));
    }
    for (double bad : new double[] {-1e-12, Double.NaN, Double.POSITIVE_INFINITY}) {
      assertRejected("adagradEpsilon", b -> b.adagradEpsilon(bad));
      assertRejected("ridge", b -> b.ridge(bad));
      assertRejected("clipNorm", b -> b.clipNorm(bad));
    }
    assertRejected("rank", b -> b.rank(0));
    assertRejected("rank", b -> b.rank(-3));
    for (double bad : new double[] {-0.1, 1.0, 1.5, Double.NaN}) {
      assertRejected("momentum", b -> b.momentum(bad));
      assertRejected("weightDecay", b -> b.weightDecay(bad));
    }
  }

  @Test
  void densityMustGiveAtLeastOneAndAtMostDEntries() {
    // d = 60: density 0.01 gives k = (int) 0.6 = 0; a count of 61 exceeds d (needs TopKCompressor.countFor).
    assertRejected(Method.SPARSE_MFAC, "density", b -> b.density(0.01));
    assertRejected(Method.SPARSE_MFAC, "density", b -> b.density(61));
    assertEquals(6, OptimizerConfig.builder(Method.SPARSE_MFAC, LAYOUT).density(0.1).build().topK());
    assertEquals(60, OptimizerConfig.builder(Method.SPARSE_MFAC, LAYOUT).density(60).build().topK());
  }

  @Test
  void boundaryValuesAreAccepted() {
    OptimizerConfig c = OptimizerConfig.builder(Method.SGD, LAYOUT).adagradEpsilon(0).ridge(0).clipNorm(0)
        .momentum(0).weightDecay(0).rank(1).window(0).build();
    assertEquals(0.0, c.adagradEpsilon());
    assertEquals(0.0, c.ridge());
    OptimizerConfig.builder(Method.SGD, LAYOUT).momentum(0.999).weightDecay(0.5).clipNorm(1e-300).build();
  }

  @Test
  void nullMethodLayoutOrScheduleAreRefusedByName() {
    assertEquals("method", assertThrows(NullPointerException.class,
        () -> OptimizerConfig.builder(null, LAYOUT)).getMessage());
    assertEquals("layout", assertThrows(NullPointerException.class,
        () -> OptimizerConfig.builder(Method.SGD, null)).getMessage());
    assertEquals("schedule", assertThrows(NullPointerException.class,
        () -> OptimizerConfig.builder(Method.SGD, LAYOUT).schedule(null)).getMessage());
  }
}
