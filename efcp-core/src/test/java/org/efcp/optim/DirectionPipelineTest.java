package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

class DirectionPipelineTest {
  private static final TensorLayout LAYOUT = TensorLayout.parse("5x8,20");

  private static OptimizerConfig config(Method method) {
    return OptimizerConfig.builder(method, LAYOUT).window(8).density(0.1).rank(2).build();
  }

  @Test
  void sgdPassesTheGradientThroughUnchanged() {
    DirectionPipeline p = DirectionPipeline.create(config(Method.SGD));
    assertNull(p.compressor());
    assertInstanceOf(IdentityPreconditioner.class, p.preconditioner());
    assertNull(p.lastCompressed());
    double[] g = new double[60];
    for (int i = 0; i < g.length; i++) {
      g[i] = Math.cos(i) * (i + 1);
    }
    double[] gCopy = g.clone();
    double[] u = new double[60];
    java.util.Arrays.fill(u, 99);
    p.direction(g, u);
    assertArrayEquals(gCopy, u, 0.0);
    assertArrayEquals(gCopy, g, 0.0);
    double[] c = new double[60];
    p.lastCompressed().toDense(c);
    assertArrayEquals(gCopy, c, 0.0);
    assertEquals(0, p.memoryBytes());
    p.reset();
    assertNull(p.lastCompressed());
  }

  @Test
  void rejectsGradientsOfTheWrongLengthOrWithNonFiniteEntries() {
    DirectionPipeline p = DirectionPipeline.create(config(Method.SGD));
    double[] u = new double[60];
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.direction(new double[59], u));
    assertEquals("gradient: expected d = 60, got length 59", e.getMessage());
    double[] g = new double[60];
    g[17] = Double.NaN;
    assertEquals("gradient: entry 17 is NaN",
        assertThrows(IllegalArgumentException.class, () -> p.direction(g, u)).getMessage());
    g[17] = Double.POSITIVE_INFINITY;
    assertEquals("gradient: entry 17 is Infinity",
        assertThrows(IllegalArgumentException.class, () -> p.direction(g, u)).getMessage());
    IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class,
        () -> p.direction(new double[60], new double[61]));
    assertTrue(e2.getMessage().startsWith("uOut:"), e2.getMessage());
    assertNull(p.lastCompressed());
  }

  /** The documented composition per method (needs the compressor and preconditioner implementations). */
  @ParameterizedTest
  @EnumSource(Method.class)
  void createBuildsTheDocumentedComposition(Method method) {
    record Expected(boolean errorFeedback, Class<?> compressor, Class<?> preconditioner, Class<?> window) {}
    Expected want = switch (method) {
      case DENSE_MFAC -> new Expected(false, Float32Compressor.class, MfacPreconditioner.class, DenseWindow.class);
      case SPARSE_MFAC -> new Expected(true, TopKCompressor.class, MfacPreconditioner.class, SparseWindow.class);
      case LOWRANK_MFAC -> new Expected(true, LowRankCompressor.class, MfacPreconditioner.class, LowRankWindow.class);
      case DENSE_GGT -> new Expected(false, Float32Compressor.class, GgtPreconditioner.class, null);
      case SPARSE_GGT -> new Expected(true, TopKCompressor.class, GgtPreconditioner.class, null);
      case ADAGRAD_EF -> new Expected(true, TopKCompressor.class, DiagonalAdagradPreconditioner.class, null);
      case SGD -> new Expected(false, null, IdentityPreconditioner.class, null);
    };
    DirectionPipeline p = DirectionPipeline.create(config(method));
    assertEquals(want.errorFeedback(), p.compressor() instanceof ErrorFeedback);
    Compressor inner = p.compressor() instanceof ErrorFeedback ef ? ef.inner() : p.compressor();
    assertEquals(want.compressor(), inner == null ? null : inner.getClass());
    assertEquals(want.preconditioner(), p.preconditioner().getClass());
    if (inner instanceof TopKCompressor topK) {
      assertEquals(6, topK.k(), "k = (int)(0.1 * 60)");
    }
    if (want.window() != null) {
      assertEquals(want.window(), ((MfacPreconditioner) p.preconditioner()).window().getClass());
      assertEquals(8, ((MfacPreconditioner) p.preconditioner()).window().capacity());
    }
    // The first direction is finite and nonzero for a nonzero gradient, and stateful methods report state.
    double[] g = new double[60];
    for (int i = 0; i < g.length; i++) {
      g[i] = Math.sin(i + 1);
    }
    double[] u = new double[60];
    p.direction(g, u);
    assertTrue(java.util.Arrays.stream(u).allMatch(Double::isFinite));
    assertTrue(java.util.Arrays.stream(u).anyMatch(x -> x != 0));
    assertEquals(60, p.lastCompressed().dimension());
    assertTrue(method == Method.SGD || p.memoryBytes() > 0, "stateful methods report their state");
  }
}
