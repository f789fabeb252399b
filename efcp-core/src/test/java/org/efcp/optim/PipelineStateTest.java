package org.efcp.optim;

import static org.efcp.optim.StateAssertions.assertAgrees;
import static org.efcp.optim.StateAssertions.assertBitwise;
import static org.efcp.optim.StateAssertions.assertSameState;
import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link DirectionPipeline#exportState()} / {@link DirectionPipeline#importState} and {@link EfcpOptimizer#toHost()}
 * on the CPU, for every method: a state exported after fewer steps than m, exactly m, or after the ring has wrapped
 * imports into a fresh pipeline whose own export is bitwise the original's; both then continue alike: bitwise for GGT,
 * AdaGrad and SGD (their window state is K itself), to a relative 1e-9 for the M-FAC methods, whose m×m factor the
 * import rebuilds from K instead of updating it step by step; their ξ, window and K stay bitwise equal. Imports
 * refuse states that do not fit ("state: ..."), leaving the pipeline empty and usable, and a pipeline that already
 * took a step (IllegalStateException).
 */
class PipelineStateTest {
  /** A 12×10 matrix and a 1-D tensor of 30 (d = 150), so low-rank compresses one and keeps the other raw. */
  private static final TensorLayout LAYOUT = TensorLayout.parse("12x10,30");
  private static final int D = 150;
  private static final int M = 5;
  /**
   * The relative max-norm agreement of u (and θ) after an import that rebuilt the M-FAC factor; the worst seen here
   * was 2e-13, the rest agree bitwise.
   */
  private static final double MFAC_TOLERANCE = 1e-9;

  private static OptimizerConfig config(Method method) {
    return OptimizerConfig.builder(method, LAYOUT)
        .window(M).density(0.1).rank(2).damping(1e-2).seed(11)
        .learningRate(1e-2).momentum(method.ordinal() % 2 == 0 ? 0.9 : 0.0).weightDecay(1e-3).clipNorm(50)
        .schedule(LearningRateSchedule.cosine(60))
        .build();
  }

  /** Gradient of step t: Gaussian with a step-dependent scale, about 10 % exact zeros. */
  private static double[] gradient(int t) {
    Random rnd = new Random(7919L * t + 13);
    double scale = 0.5 + (t % 3);
    double[] g = new double[D];
    for (int i = 0; i < D; i++) {
      g[i] = rnd.nextInt(10) == 0 ? 0.0 : scale * rnd.nextGaussian();
    }
    return g;
  }

  /** A noisy quadratic around sin(i): g = θ − θ* + gradient(t). */
  private static double[] gradient(double[] theta, int t) {
    double[] g = gradient(t);
    for (int i = 0; i < D; i++) {
      g[i] += theta[i] - Math.sin(i);
    }
    return g;
  }

  private static DirectionPipeline pipelineAfter(Method method, int steps) {
    DirectionPipeline p = DirectionPipeline.create(config(method));
    double[] u = new double[D];
    for (int t = 0; t < steps; t++) {
      p.direction(gradient(t), u);
    }
    return p;
  }

  static Stream<Arguments> methodsAndSteps() {
    // 0: empty; 3 < m; m: full, not wrapped; 12 > m: wrapped twice, the next insert goes to slot 2.
    return Arrays.stream(Method.values())
        .flatMap(method -> Stream.of(0, 3, M, 12).map(steps -> Arguments.of(method, steps)));
  }

  @ParameterizedTest(name = "{0} after {1} steps")
  @MethodSource("methodsAndSteps")
  void anImportedStateExportsBitwiseTheSameAndContinuesLikeTheOriginal(Method method, int steps) {
    DirectionPipeline original = pipelineAfter(method, steps);
    PipelineState state = original.exportState();
    assertShape(method, steps, state);

    DirectionPipeline copy = DirectionPipeline.create(config(method));
    copy.importState(state);
    assertEquals(steps, copy.stepCount());
    assertNull(copy.lastCompressed());
    assertSameState("after import", state, copy.exportState());

    // The import copied the arrays, and an export hands out copies: scribbling on either changes no pipeline.
    scribble(state);
    scribble(copy.exportState());
    assertSameState("after scribbling on the states", original.exportState(), copy.exportState());

    double[] uOriginal = new double[D];
    double[] uCopy = new double[D];
    for (int t = steps; t < steps + 2 * M + 1; t++) {
      double[] g = gradient(t);
      original.direction(g, uOriginal);
      copy.direction(g, uCopy);
      if (method.isMfac()) {
        assertAgrees("step " + t + ": u", uOriginal, uCopy, MFAC_TOLERANCE);
      } else {
        assertBitwise("step " + t + ": u", uOriginal, uCopy);
      }
    }
    // What the factor does not touch (ξ, window, K, S, warm starts) stays bitwise the same.
    assertSameState("after continuing", original.exportState(), copy.exportState());
  }

  @ParameterizedTest
  @EnumSource(Method.class)
  void theWindowSlotsAreTheLastCompressedVectorsByStepModuloM(Method method) {
    DirectionPipeline p = DirectionPipeline.create(config(method));
    double[][] byStep = new double[12][D];
    double[] u = new double[D];
    for (int t = 0; t < 12; t++) {
      p.direction(gradient(t), u);
      p.lastCompressed().toDense(byStep[t]);
    }
    PipelineState state = p.exportState();
    if (!method.hasWindow()) {
      assertNull(state.slots());
      return;
    }
    for (int s = 0; s < M; s++) {
      int t = 12 - M + ((s - (12 - M)) % M + M) % M;
      assertEquals(s, t % M);
      double[] slot = new double[D];
      state.slots()[s].toDense(slot);
      assertBitwise("slot " + s + " (step " + t + ")", byStep[t], slot);
    }
    // K is the Gram matrix of the slots, row-major by slot.
    double[] gram = state.gram();
    double scale = 0;
    for (double k : gram) {
      scale = Math.max(scale, Math.abs(k));
    }
    for (int i = 0; i < M; i++) {
      double[] xi = new double[D];
      state.slots()[i].toDense(xi);
      for (int j = 0; j < M; j++) {
        double[] xj = new double[D];
        state.slots()[j].toDense(xj);
        double dot = 0;
        for (int q = 0; q < D; q++) {
          dot += xi[q] * xj[q];
        }
        assertEquals(dot, gram[i * M + j], 1e-12 * scale, "K[" + i + "][" + j + "]");
        assertEquals(gram[i * M + j], gram[j * M + i], 0.0, "K is symmetric at " + i + ", " + j);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Method.class)
  void toHostOfACpuOptimizerIsAnIndependentCopyThatContinuesLikeIt(Method method) {
    OptimizerConfig config = config(method);
    EfcpOptimizer original = new EfcpOptimizer(config);
    double[] theta = new double[D];
    for (int t = 0; t < 8; t++) {
      original.step(theta, gradient(theta, t));
    }
    EfcpOptimizer copy = original.toHost();
    EfcpOptimizer scratch = original.toHost();
    assertEquals("cpu", copy.device());
    assertEquals(8, copy.stepCount());
    assertEquals(8, copy.pipeline().stepCount());
    assertEquals(config, copy.config());
    assertMomentumEquals(original.momentumBuffer(), copy.momentumBuffer());
    assertSameState("copy", original.pipeline().exportState(), copy.pipeline().exportState());

    // Stepping one copy changes neither the original nor the other copy.
    PipelineState before = original.pipeline().exportState();
    double[] momentumBefore = original.momentumBuffer();
    double[] elsewhere = new double[D];
    Arrays.fill(elsewhere, 3.0);
    for (int t = 0; t < 6; t++) {
      scratch.step(elsewhere, gradient(elsewhere, 100 + t));
    }
    assertEquals(14, scratch.stepCount());
    assertEquals(8, original.stepCount());
    assertSameState("original after stepping a copy", before, original.pipeline().exportState());
    assertMomentumEquals(momentumBefore, original.momentumBuffer());
    assertSameState("other copy after stepping a copy", before, copy.pipeline().exportState());

    double[] thetaCopy = theta.clone();
    for (int t = 8; t < 8 + 2 * M + 3; t++) {
      StepResult a = original.step(theta, gradient(theta, t));
      StepResult b = copy.step(thetaCopy, gradient(thetaCopy, t));
      assertEquals(a.step(), b.step());
      assertEquals(a.learningRate(), b.learningRate(), 0.0);
      assertEquals(a.clipped(), b.clipped());
      if (method.isMfac()) {
        assertAgrees("step " + t + ": θ", theta, thetaCopy, MFAC_TOLERANCE);
      } else {
        assertBitwise("step " + t + ": θ", theta, thetaCopy);
      }
    }
  }

  @ParameterizedTest
  @EnumSource(Method.class)
  void aLoadedCopyOfAnImportedStateContinuesBitIdentically(Method method) throws IOException {
    EfcpOptimizer original = new EfcpOptimizer(config(method));
    double[] theta = new double[D];
    for (int t = 0; t < 9; t++) {
      original.step(theta, gradient(theta, t));
    }
    EfcpOptimizer copy = original.toHost();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    copy.save(bytes);
    EfcpOptimizer loaded = EfcpOptimizer.load(new ByteArrayInputStream(bytes.toByteArray()));
    assertEquals("cpu", loaded.device());
    assertEquals(9, loaded.stepCount());
    assertSameState("loaded", copy.pipeline().exportState(), loaded.pipeline().exportState());
    double[] thetaLoaded = theta.clone();
    for (int t = 9; t < 9 + 2 * M; t++) {
      StepResult a = copy.step(theta, gradient(theta, t), true);
      StepResult b = loaded.step(thetaLoaded, gradient(thetaLoaded, t), true);
      assertEquals(a, b, "step " + t);
      assertBitwise("step " + t + ": θ", theta, thetaLoaded);
    }
  }

  /** A named way to spoil a good state (exported after 12 steps). */
  private record Spoiler(String name, UnaryOperator<PipelineState> spoil) {
  }

  private static List<Spoiler> spoilers(Method method) {
    List<Spoiler> list = new ArrayList<>();
    Method other = method == Method.SGD ? Method.ADAGRAD_EF : Method.SGD;
    list.add(new Spoiler("another method's state", s -> with(s, other, s.steps())));
    list.add(new Spoiler("negative steps", s -> with(s, s.method(), -1)));
    if (s(method).error() != null) {
      list.add(new Spoiler("no error buffer", s -> new PipelineState(s.method(), s.steps(), null, s.slots(),
          s.gram(), s.sumSquares(), s.warmStart())));
      list.add(new Spoiler("an error buffer one short", s -> new PipelineState(s.method(), s.steps(),
          Arrays.copyOf(s.error(), D - 1), s.slots(), s.gram(), s.sumSquares(), s.warmStart())));
      list.add(new Spoiler("a NaN in the error buffer", s -> withErrorEntry(s, 7, Double.NaN)));
      list.add(new Spoiler("an infinity in the error buffer", s -> withErrorEntry(s, D - 1,
          Double.NEGATIVE_INFINITY)));
    }
    if (method.hasWindow()) {
      list.add(new Spoiler("one slot too few", s -> new PipelineState(s.method(), s.steps(), s.error(),
          Arrays.copyOf(s.slots(), M - 1), s.gram(), s.sumSquares(), s.warmStart())));
      list.add(new Spoiler("fewer steps than slots", s -> with(s, s.method(), M - 2)));
      list.add(new Spoiler("a null slot", s -> {
        CompressedVector[] slots = s.slots().clone();
        slots[2] = null;
        return new PipelineState(s.method(), s.steps(), s.error(), slots, s.gram(), s.sumSquares(), s.warmStart());
      }));
      list.add(new Spoiler("no slots", s -> new PipelineState(s.method(), s.steps(), s.error(), null, s.gram(),
          s.sumSquares(), s.warmStart())));
      list.add(new Spoiler("a gram one short", s -> new PipelineState(s.method(), s.steps(), s.error(),
          s.slots(), Arrays.copyOf(s.gram(), M * M - 1), s.sumSquares(), s.warmStart())));
      list.add(new Spoiler("no gram", s -> new PipelineState(s.method(), s.steps(), s.error(), s.slots(), null,
          s.sumSquares(), s.warmStart())));
      // Refused only after the window took the slots (and the error buffer its values).
      list.add(new Spoiler("a NaN in the gram", s -> {
        double[] gram = s.gram().clone();
        gram[M + 1] = Double.NaN;
        return new PipelineState(s.method(), s.steps(), s.error(), s.slots(), gram, s.sumSquares(),
            s.warmStart());
      }));
      if (method != Method.LOWRANK_MFAC) {
        list.add(new Spoiler("a slot of another dimension", s -> {
          CompressedVector[] slots = s.slots().clone();
          slots[M - 1] = slots[M - 1] instanceof SparseVector
              ? new SparseVector(D + 1, new int[] {D}, new float[] {1f})
              : new Float32Vector(new float[D + 1]);
          return new PipelineState(s.method(), s.steps(), s.error(), slots, s.gram(), s.sumSquares(),
              s.warmStart());
        }));
      }
    }
    if (method == Method.ADAGRAD_EF) {
      list.add(new Spoiler("no sum of squares", s -> new PipelineState(s.method(), s.steps(), s.error(),
          s.slots(), s.gram(), null, s.warmStart())));
      list.add(new Spoiler("a sum of squares one long", s -> new PipelineState(s.method(), s.steps(), s.error(),
          s.slots(), s.gram(), Arrays.copyOf(s.sumSquares(), D + 1), s.warmStart())));
      list.add(new Spoiler("a negative sum of squares", s -> {
        double[] sumSquares = s.sumSquares().clone();
        sumSquares[3] = -1.0;
        return new PipelineState(s.method(), s.steps(), s.error(), s.slots(), s.gram(), sumSquares,
            s.warmStart());
      }));
    }
    if (method == Method.LOWRANK_MFAC) {
      list.add(new Spoiler("no warm starts", s -> new PipelineState(s.method(), s.steps(), s.error(), s.slots(),
          s.gram(), s.sumSquares(), null)));
      list.add(new Spoiler("warm starts for one tensor", s -> new PipelineState(s.method(), s.steps(), s.error(),
          s.slots(), s.gram(), s.sumSquares(), Arrays.copyOf(s.warmStart(), 1))));
      list.add(new Spoiler("a warm start one short", s -> {
        double[][] warmStart = s.warmStart().clone();
        warmStart[0] = Arrays.copyOf(warmStart[0], warmStart[0].length - 1);
        return new PipelineState(s.method(), s.steps(), s.error(), s.slots(), s.gram(), s.sumSquares(),
            warmStart);
      }));
      list.add(new Spoiler("a NaN in a warm start", s -> {
        double[][] warmStart = s.warmStart().clone();
        warmStart[0] = warmStart[0].clone();
        warmStart[0][5] = Double.NaN;
        return new PipelineState(s.method(), s.steps(), s.error(), s.slots(), s.gram(), s.sumSquares(),
            warmStart);
      }));
    }
    return list;
  }

  /** A good state of {@code method}: exported after 12 steps (the ring has wrapped). */
  private static PipelineState s(Method method) {
    return pipelineAfter(method, 12).exportState();
  }

  private static PipelineState with(PipelineState s, Method method, long steps) {
    return new PipelineState(method, steps, s.error(), s.slots(), s.gram(), s.sumSquares(), s.warmStart());
  }

  private static PipelineState withErrorEntry(PipelineState s, int i, double value) {
    double[] error = s.error().clone();
    error[i] = value;
    return new PipelineState(s.method(), s.steps(), error, s.slots(), s.gram(), s.sumSquares(), s.warmStart());
  }

  @ParameterizedTest
  @EnumSource(Method.class)
  void aStateThatDoesNotFitIsRefusedAndLeavesTheFreshPipelineUsable(Method method) {
    PipelineState good = s(method);
    PipelineState empty = DirectionPipeline.create(config(method)).exportState();
    List<Executable> checks = new ArrayList<>();
    for (Spoiler spoiler : spoilers(method)) {
      checks.add(() -> {
        DirectionPipeline p = DirectionPipeline.create(config(method));
        PipelineState bad = spoiler.spoil().apply(good);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> p.importState(bad),
            spoiler.name());
        assertTrue(e.getMessage().startsWith("state: "), spoiler.name() + ": " + e.getMessage());
        assertEquals(0, p.stepCount(), spoiler.name());
        assertSameState(spoiler.name() + ": the refused pipeline is empty", empty, p.exportState());
        assertBehavesLikeAFreshPipeline(spoiler.name(), method, p);
      });
    }
    assertAll(method + ": " + checks.size() + " spoiled states", checks);
    // The good state still imports (the spoilers worked on copies).
    DirectionPipeline p = DirectionPipeline.create(config(method));
    p.importState(good);
    assertEquals(12, p.stepCount());
  }

  @ParameterizedTest
  @EnumSource(Method.class)
  void aPipelineThatTookAStepRefusesAnImportAndKeepsItsState(Method method) {
    PipelineState state = s(method);
    DirectionPipeline p = pipelineAfter(method, 1);
    PipelineState before = p.exportState();
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> p.importState(state));
    assertTrue(e.getMessage().contains("no step"), e.getMessage());
    assertEquals(1, p.stepCount());
    assertSameState("after the refusal", before, p.exportState());
    // It continues like a pipeline that took the same step.
    DirectionPipeline reference = pipelineAfter(method, 1);
    double[] u = new double[D];
    double[] uReference = new double[D];
    for (int t = 1; t < 8; t++) {
      p.direction(gradient(t), u);
      reference.direction(gradient(t), uReference);
      assertBitwise("step " + t + ": u", uReference, u);
    }
  }

  private static void assertBehavesLikeAFreshPipeline(String what, Method method, DirectionPipeline p) {
    DirectionPipeline fresh = DirectionPipeline.create(config(method));
    double[] u = new double[D];
    double[] uFresh = new double[D];
    for (int t = 0; t < M + 2; t++) {
      p.direction(gradient(t), u);
      fresh.direction(gradient(t), uFresh);
      assertBitwise(what + ", step " + t + ": u", uFresh, u);
    }
  }

  /** The parts each method's state has, and their sizes. */
  private static void assertShape(Method method, int steps, PipelineState state) {
    assertEquals(method, state.method());
    assertEquals(steps, state.steps());
    boolean errorFeedback = method.usesTopK() || method == Method.LOWRANK_MFAC;
    if (errorFeedback) {
      assertNotNull(state.error(), "error");
      assertEquals(D, state.error().length);
    } else {
      assertNull(state.error(), "error");
    }
    if (method.hasWindow()) {
      assertEquals(Math.min(steps, M), state.slots().length, "slots");
      for (CompressedVector slot : state.slots()) {
        assertEquals(D, slot.dimension());
        switch (method) {
          case DENSE_MFAC, DENSE_GGT -> assertInstanceOf(Float32Vector.class, slot);
          case SPARSE_MFAC, SPARSE_GGT -> assertInstanceOf(SparseVector.class, slot);
          case LOWRANK_MFAC -> assertInstanceOf(LowRankVector.class, slot);
          default -> fail(method + " has no window");
        }
      }
      assertEquals(M * M, state.gram().length, "gram");
    } else {
      assertNull(state.slots(), "slots");
      assertNull(state.gram(), "gram");
    }
    if (method == Method.ADAGRAD_EF) {
      assertEquals(D, state.sumSquares().length, "sumSquares");
    } else {
      assertNull(state.sumSquares(), "sumSquares");
    }
    if (method == Method.LOWRANK_MFAC) {
      assertEquals(2, state.warmStart().length, "warmStart");
      assertEquals(10 * 2, state.warmStart()[0].length, "warm start of the 12x10 matrix: cols × rank");
      assertNull(state.warmStart()[1], "warm start of the 1-D tensor");
    } else {
      assertNull(state.warmStart(), "warmStart");
    }
  }

  /** Overwrites every array of {@code state} that an importer or exporter might have kept. */
  private static void scribble(PipelineState state) {
    if (state.error() != null) {
      Arrays.fill(state.error(), 1e9);
    }
    if (state.gram() != null) {
      Arrays.fill(state.gram(), -1e9);
    }
    if (state.sumSquares() != null) {
      Arrays.fill(state.sumSquares(), 1e9);
    }
    if (state.warmStart() != null) {
      for (double[] q : state.warmStart()) {
        if (q != null) {
          Arrays.fill(q, 1e9);
        }
      }
    }
    if (state.slots() != null) {
      for (CompressedVector v : state.slots()) {
        if (v instanceof SparseVector sv) {
          Arrays.fill(sv.values(), 1e9f);
        } else if (v instanceof Float32Vector fv) {
          Arrays.fill(fv.values(), 1e9f);
        } else if (v instanceof LowRankVector lv) {
          for (int l = 0; l < LAYOUT.numTensors(); l++) {
            for (double[] x : new double[][] {lv.p(l), lv.q(l), lv.raw(l)}) {
              if (x != null) {
                Arrays.fill(x, 1e9);
              }
            }
          }
        }
      }
    }
  }

  private static void assertMomentumEquals(double[] expected, double[] actual) {
    assertBitwise("momentum buffer", expected, actual);
  }
}
