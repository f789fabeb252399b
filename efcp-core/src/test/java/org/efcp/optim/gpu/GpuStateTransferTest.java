package org.efcp.optim.gpu;

import static org.efcp.optim.StateAssertions.assertAgrees;
import static org.efcp.optim.StateAssertions.assertBitwise;
import static org.efcp.optim.StateAssertions.assertSameState;
import static org.efcp.optim.StateAssertions.assertStateAgrees;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertClose;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertSameError;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertSameIndices;
import static org.efcp.optim.gpu.GpuPipelineTesting.assertSameValues;
import static org.efcp.optim.gpu.GpuPipelineTesting.checkedContext;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.lang.reflect.Field;
import java.util.Arrays;
import java.util.stream.Stream;

import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuUsage;
import org.efcp.optim.DiagonalAdagradPreconditioner;
import org.efcp.optim.DirectionPipeline;
import org.efcp.optim.EfcpOptimizer;
import org.efcp.optim.ErrorFeedback;
import org.efcp.optim.LearningRateSchedule;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.PipelineState;
import org.efcp.optim.SparseVector;
import org.efcp.optim.StateAssertions.Tolerance;
import org.efcp.optim.StepResult;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@link EfcpOptimizer#toGpu}, {@link EfcpOptimizer#toHost()} and a GPU optimizer's checkpoint, for every method, on
 * the gradients of {@link GradientSequence} (ties, zeros, heavy tails; from its step 2 on, see
 * {@code GpuLowRankMfacPipelineTest}) over a 16×12 matrix and a 1-D tensor of 60 (d = 252, m = 6):
 * <ul>
 *   <li>a CPU optimizer moved to the GPU continues like the CPU optimizer (θ within a relative 1e-5, the Top-k
 *       selections and ξ bitwise the CPU's);</li>
 *   <li>a GPU optimizer moved to the host holds the state of a CPU optimizer that took the same steps (see
 *       {@link #assertHoldsTheCpuState}) and both continue in agreement;</li>
 *   <li>a GPU optimizer's checkpoint loads as a CPU optimizer that resumes on the GPU like the uninterrupted one, and
 *       a GPU optimizer copied to the GPU likewise, its source stepping on as before;</li>
 *   <li>imports refuse a state that does not fit ("state: ...") or a pipeline that took a step, and nothing stays
 *       held on the device after everything is closed, a refused {@code toGpu} included.</li>
 * </ul>
 */
@Tag("gpu")
class GpuStateTransferTest {
  private static final TensorLayout LAYOUT = TensorLayout.parse("16x12,60");
  private static final int D = 252;
  private static final int M = 6;
  /** CPU vs GPU, θ or u: max-norm relative, as {@link GpuEfcpOptimizerTest}. */
  private static final double CPU_GPU = 1e-5;

  private static OptimizerConfig config(Method method) {
    return OptimizerConfig.builder(method, LAYOUT).window(M).density(0.05).rank(2).damping(1e-3).seed(3)
        .learningRate(0.05).momentum(method.ordinal() % 2 == 0 ? 0.9 : 0.0).weightDecay(1e-4).clipNorm(50)
        .schedule(LearningRateSchedule.cosine(60)).build();
  }

  private static final GradientSequence GRADIENTS = new GradientSequence(D, 0.125, 31);

  /** The gradient of step t: {@link GradientSequence}'s step t + 2. */
  private static double[] gradient(int t) {
    return GRADIENTS.gradient(t + 2);
  }

  static Stream<Arguments> methodsAndSteps() {
    // 3 < m; 2m + 1: the ring has wrapped twice.
    return Arrays.stream(Method.values())
        .flatMap(method -> Stream.of(3, 2 * M + 1).map(steps -> Arguments.of(method, steps)));
  }

  /**
   * θ of two optimizers that both continue on the GPU from one state: after a GPU → host → GPU trip (checkpoint,
   * toGpu of a GPU optimizer) ξ, the window and K are bitwise the source's, so only the m×m state rebuilt from K
   * (M-FAC; at most 5e-15 on the emulated driver, dense M-FAC bitwise there) and the order of the float64 atomics
   * (sparse M-FAC, sparse GGT, as in GpuEfcpOptimizerTest; bitwise on the emulated driver) make a difference; the
   * other methods continue bitwise.
   */
  private static double resumeTolerance(Method method) {
    return switch (method) {
      case DENSE_MFAC, SPARSE_MFAC, LOWRANK_MFAC -> 1e-11;
      case SPARSE_GGT -> 1e-12;
      case DENSE_GGT, ADAGRAD_EF, SGD -> 0;
    };
  }

  @ParameterizedTest(name = "{0} after {1} steps")
  @MethodSource("methodsAndSteps")
  void aCpuOptimizerMovedToTheGpuContinuesLikeTheCpuOptimizer(Method method, int steps) {
    GpuContext context = checkedContext();
    GpuUsage before = context.usage();
    EfcpOptimizer cpu = new EfcpOptimizer(config(method));
    double[] thetaCpu = new double[D];
    for (int t = 0; t < steps; t++) {
      cpu.step(thetaCpu, gradient(t));
    }
    PipelineState cpuState = cpu.pipeline().exportState();
    double[] thetaGpu = thetaCpu.clone();
    try (EfcpOptimizer gpu = cpu.toGpu(context)) {
      assertEquals("gpu", gpu.device());
      assertEquals(steps, gpu.stepCount());
      assertBitwise("momentum buffer", cpu.momentumBuffer(), gpu.momentumBuffer());
      assertEquals(cpu.config(), gpu.config());
      assertSameState("the CPU optimizer after toGpu", cpuState, cpu.pipeline().exportState());
      for (int t = steps; t < steps + 2 * M + 1; t++) {
        StepResult a = cpu.step(thetaCpu, gradient(t));
        StepResult b = gpu.step(thetaGpu, gradient(t));
        assertEquals(a.step(), b.step());
        assertEquals(a.learningRate(), b.learningRate(), "step " + t + ": learning rate");
        assertEquals(a.clipped(), b.clipped(), "step " + t + ": clipped");
        assertClose(t, thetaCpu, thetaGpu, CPU_GPU);
      }
    }
    assertEquals(before, context.usage(), "close gives everything back");
  }

  @ParameterizedTest
  @EnumSource(Method.class)
  void aCpuStateImportedOnTheGpuExportsAsImportedAndSelectsWhatTheCpuSelects(Method method) {
    GpuContext context = checkedContext();
    GpuUsage before = context.usage();
    OptimizerConfig config = config(method);
    DirectionPipeline cpu = DirectionPipeline.create(config);
    double[] uCpu = new double[D];
    double[] uGpu = new double[D];
    int steps = 2 * M + 1;
    for (int t = 0; t < steps; t++) {
      cpu.direction(gradient(t), uCpu);
    }
    PipelineState imported = cpu.exportState();
    try (GpuDirectionPipeline gpu = GpuPipelines.create(context, config)) {
      gpu.importState(imported);
      assertEquals(steps, gpu.stepCount());
      // The device holds what it was given: its export is bitwise the import, K included.
      assertSameState("exported after the import", imported, gpu.exportState());
      for (int t = steps; t < steps + 2 * M + 1; t++) {
        cpu.direction(gradient(t), uCpu);
        gpu.direction(gradient(t), uGpu);
        assertClose(t, uCpu, uGpu, CPU_GPU);
        if (!method.usesTopK()) {
          continue;
        }
        double[] errorCpu = ((ErrorFeedback) cpu.compressor()).error();
        SparseVector c = (SparseVector) cpu.lastCompressed();
        if (gpu instanceof GpuSparseMfacPipeline p) {
          assertSameIndices(t, c.indices(), p.lastIndices());
          assertSameValues(t, c.values(), p.lastValues());
          assertSameError(t, errorCpu, p.errorBuffer());
        } else if (gpu instanceof GpuSparseGgtPipeline p) {
          assertSameIndices(t, c.indices(), p.lastIndices());
          assertSameValues(t, c.values(), p.lastValues());
          assertSameError(t, errorCpu, p.errorBuffer());
        } else if (gpu instanceof GpuAdagradEfPipeline p) {
          // ξ = a with the selected entries zeroed: the same ξ, the same selection.
          assertSameError(t, errorCpu, p.errorBuffer());
          double[] s = ((DiagonalAdagradPreconditioner) cpu.preconditioner()).sumSquares();
          assertBitwise("step " + t + ": S", s, p.sumSquares());
        } else {
          fail("not a Top-k pipeline: " + gpu.getClass());
        }
      }
      assertHoldsTheCpuState(method, cpu.exportState(), gpu.exportState());
    }
    assertEquals(before, context.usage(), "close gives everything back");
  }

  @ParameterizedTest(name = "{0} after {1} steps")
  @MethodSource("methodsAndSteps")
  void aGpuOptimizerMovedToTheHostHoldsTheCpuOptimizersState(Method method, int steps) {
    GpuContext context = checkedContext();
    GpuUsage before = context.usage();
    EfcpOptimizer cpu = new EfcpOptimizer(config(method));
    double[] thetaCpu = new double[D];
    double[] thetaGpu = new double[D];
    try (EfcpOptimizer gpu = EfcpOptimizer.onGpu(config(method), context)) {
      for (int t = 0; t < steps; t++) {
        cpu.step(thetaCpu, gradient(t));
        gpu.step(thetaGpu, gradient(t));
      }
      EfcpOptimizer host = gpu.toHost();
      assertEquals("cpu", host.device());
      assertEquals("gpu", gpu.device());
      assertEquals(steps, host.stepCount());
      assertEquals(steps, host.pipeline().stepCount());
      assertBitwise("momentum buffer", gpu.momentumBuffer(), host.momentumBuffer());
      assertHoldsTheCpuState(method, cpu.pipeline().exportState(), host.pipeline().exportState());

      double[] thetaHost = thetaGpu.clone();
      for (int t = steps; t < steps + 2 * M + 1; t++) {
        cpu.step(thetaCpu, gradient(t));
        gpu.step(thetaGpu, gradient(t));
        host.step(thetaHost, gradient(t));
        assertClose(t, thetaCpu, thetaGpu, CPU_GPU);
        assertClose(t, thetaGpu, thetaHost, CPU_GPU);
      }
    }
    assertEquals(before, context.usage(), "close gives everything back");
  }

  @ParameterizedTest
  @EnumSource(Method.class)
  void aGpuCheckpointLoadsOnTheCpuAndResumesOnTheGpuLikeTheUninterruptedOptimizer(Method method)
      throws IOException {
    GpuContext context = checkedContext();
    GpuUsage before = context.usage();
    int steps = 2 * M + 1;
    double[] theta = new double[D];
    try (EfcpOptimizer gpu = EfcpOptimizer.onGpu(config(method), context)) {
      for (int t = 0; t < steps; t++) {
        gpu.step(theta, gradient(t));
      }
      GpuUsage open = context.usage();
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      gpu.save(bytes);
      assertEquals(open, context.usage(), "save holds nothing more on the device");
      EfcpOptimizer loaded = EfcpOptimizer.load(new ByteArrayInputStream(bytes.toByteArray()));
      assertEquals("cpu", loaded.device());
      assertEquals(steps, loaded.stepCount());
      assertEquals(steps, loaded.pipeline().stepCount());
      assertBitwise("momentum buffer", gpu.momentumBuffer(), loaded.momentumBuffer());
      double[] thetaResumed = theta.clone();
      double[] thetaLoaded = theta.clone();
      try (EfcpOptimizer resumed = loaded.toGpu(context)) {
        assertEquals("gpu", resumed.device());
        assertEquals(steps, resumed.stepCount());
        for (int t = steps; t < steps + 2 * M + 1; t++) {
          StepResult a = gpu.step(theta, gradient(t));
          StepResult b = resumed.step(thetaResumed, gradient(t));
          loaded.step(thetaLoaded, gradient(t));
          assertEquals(a.clipped(), b.clipped(), "step " + t + ": clipped");
          assertAgrees(t + ": θ resumed on the GPU", theta, thetaResumed, resumeTolerance(method));
          assertClose(t, theta, thetaLoaded, CPU_GPU);
        }
      }
    }
    assertEquals(before, context.usage(), "close gives everything back");
  }

  @ParameterizedTest
  @EnumSource(Method.class)
  void aGpuOptimizerCopiedToTheGpuContinuesLikeItAndStepsOnAsBefore(Method method) {
    GpuContext context = checkedContext();
    GpuUsage before = context.usage();
    int steps = 2 * M + 1;
    double[] theta = new double[D];
    double[] thetaReference = new double[D];
    try (EfcpOptimizer source = EfcpOptimizer.onGpu(config(method), context);
        EfcpOptimizer reference = EfcpOptimizer.onGpu(config(method), context)) {
      for (int t = 0; t < steps; t++) {
        source.step(theta, gradient(t));
        reference.step(thetaReference, gradient(t));
      }
      double[] thetaCopy = theta.clone();
      try (EfcpOptimizer copy = source.toGpu(context)) {
        assertEquals("gpu", copy.device());
        assertEquals(steps, copy.stepCount());
        assertBitwise("momentum buffer", source.momentumBuffer(), copy.momentumBuffer());
        for (int t = steps; t < steps + 2 * M + 1; t++) {
          source.step(theta, gradient(t));
          reference.step(thetaReference, gradient(t));
          copy.step(thetaCopy, gradient(t));
          // The source steps as the optimizer that was never copied (two runs: bitwise but for the atomics).
          assertAgrees(t + ": θ of the source", thetaReference, theta, twoRunTolerance(method));
          assertAgrees(t + ": θ of the copy", theta, thetaCopy, resumeTolerance(method));
        }
      }
    }
    assertEquals(before, context.usage(), "close gives everything back");
  }

  /** Two GPU runs of the same steps, as {@code GpuEfcpOptimizerTest.aSecondRunOnReusedMemoryRepeatsTheFirst}. */
  private static double twoRunTolerance(Method method) {
    return method == Method.SPARSE_MFAC || method == Method.SPARSE_GGT ? 1e-12 : 0;
  }

  @ParameterizedTest
  @EnumSource(Method.class)
  void aRefusedImportOnTheWayToTheGpuLeavesNothingHeld(Method method) throws ReflectiveOperationException {
    GpuContext context = checkedContext();
    GpuUsage before = context.usage();
    // An optimizer whose pipeline runs another method than its configuration, as a tampered checkpoint could hold.
    Method other = method == Method.SGD ? Method.ADAGRAD_EF : Method.SGD;
    EfcpOptimizer mixed = new EfcpOptimizer(config(method));
    DirectionPipeline foreign = DirectionPipeline.create(config(other));
    foreign.direction(gradient(0), new double[D]);
    Field pipeline = EfcpOptimizer.class.getDeclaredField("pipeline");
    pipeline.setAccessible(true);
    pipeline.set(mixed, foreign);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> mixed.toGpu(context));
    assertTrue(e.getMessage().startsWith("state: "), e.getMessage());
    assertEquals(before, context.usage(), "toGpu closes the new optimizer when the import fails");
  }

  @ParameterizedTest
  @EnumSource(value = Method.class, names = {"SPARSE_MFAC", "DENSE_GGT", "SGD"})
  void aClosedGpuOptimizerMovesNowhere(Method method) {
    GpuContext context = checkedContext();
    GpuUsage before = context.usage();
    EfcpOptimizer gpu = EfcpOptimizer.onGpu(config(method), context);
    gpu.step(new double[D], gradient(0));
    gpu.close();
    assertThrows(IllegalStateException.class, gpu::toHost, "toHost");
    assertThrows(IllegalStateException.class, () -> gpu.toGpu(context), "toGpu");
    assertThrows(IllegalStateException.class, () -> gpu.save(new ByteArrayOutputStream()), "save");
    assertEquals(before, context.usage(), "nothing held");
  }

  @ParameterizedTest
  @EnumSource(Method.class)
  void aGpuPipelineRefusesAStateThatDoesNotFitAndStaysFresh(Method method) {
    GpuContext context = checkedContext();
    GpuUsage before = context.usage();
    OptimizerConfig config = config(method);
    DirectionPipeline cpu = DirectionPipeline.create(config);
    for (int t = 0; t < 2 * M + 1; t++) {
      cpu.direction(gradient(t), new double[D]);
    }
    PipelineState good = cpu.exportState();
    Method other = method == Method.SGD ? Method.ADAGRAD_EF : Method.SGD;
    try (GpuDirectionPipeline gpu = GpuPipelines.create(context, config)) {
      assertRefused(gpu, "another method's state", new PipelineState(other, good.steps(), good.error(), good.slots(),
          good.gram(), good.sumSquares(), good.warmStart()));
      assertRefused(gpu, "negative steps", new PipelineState(method, -1, good.error(), good.slots(), good.gram(),
          good.sumSquares(), good.warmStart()));
      if (good.error() != null) {
        double[] error = good.error().clone();
        error[5] = Double.NaN;
        assertRefused(gpu, "a NaN in the error buffer", new PipelineState(method, good.steps(), error, good.slots(),
            good.gram(), good.sumSquares(), good.warmStart()));
        assertRefused(gpu, "an error buffer one short", new PipelineState(method, good.steps(),
            Arrays.copyOf(good.error(), D - 1), good.slots(), good.gram(), good.sumSquares(), good.warmStart()));
      }
      if (method.hasWindow()) {
        assertRefused(gpu, "one slot too few", new PipelineState(method, good.steps(), good.error(),
            Arrays.copyOf(good.slots(), M - 1), good.gram(), good.sumSquares(), good.warmStart()));
        assertRefused(gpu, "a gram one short", new PipelineState(method, good.steps(), good.error(), good.slots(),
            Arrays.copyOf(good.gram(), M * M - 1), good.sumSquares(), good.warmStart()));
        double[] gram = good.gram().clone();
        gram[M + 2] = Double.POSITIVE_INFINITY;
        assertRefused(gpu, "an infinity in the gram", new PipelineState(method, good.steps(), good.error(),
            good.slots(), gram, good.sumSquares(), good.warmStart()));
      }
      if (method == Method.ADAGRAD_EF) {
        double[] s = good.sumSquares().clone();
        s[2] = -1;
        assertRefused(gpu, "a negative sum of squares", new PipelineState(method, good.steps(), good.error(),
            good.slots(), good.gram(), s, good.warmStart()));
      }
      if (method == Method.LOWRANK_MFAC) {
        assertRefused(gpu, "no warm starts", new PipelineState(method, good.steps(), good.error(), good.slots(),
            good.gram(), good.sumSquares(), null));
      }
      // Refused before the device was touched: it steps as a fresh pipeline (as the fresh CPU pipeline).
      DirectionPipeline fresh = DirectionPipeline.create(config);
      double[] uCpu = new double[D];
      double[] uGpu = new double[D];
      for (int t = 0; t < M + 1; t++) {
        fresh.direction(gradient(t), uCpu);
        gpu.direction(gradient(t), uGpu);
        assertClose(t, uCpu, uGpu, CPU_GPU);
      }
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> gpu.importState(good));
      assertTrue(e.getMessage().contains("no step"), e.getMessage());
      assertEquals(M + 1, gpu.stepCount());
      fresh.direction(gradient(M + 1), uCpu);
      gpu.direction(gradient(M + 1), uGpu);
      assertClose(M + 1, uCpu, uGpu, CPU_GPU);
    }
    // A good import into a fresh pipeline still works; a closed one refuses.
    try (GpuDirectionPipeline gpu = GpuPipelines.create(context, config)) {
      gpu.importState(good);
      assertEquals(2 * M + 1, gpu.stepCount());
    }
    GpuDirectionPipeline closed = GpuPipelines.create(context, config);
    closed.close();
    assertThrows(IllegalStateException.class, () -> closed.importState(good), "import after close");
    assertEquals(before, context.usage(), "close gives everything back");
  }

  private static void assertRefused(GpuDirectionPipeline gpu, String what, PipelineState bad) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> gpu.importState(bad), what);
    assertTrue(e.getMessage().startsWith("state: "), what + ": " + e.getMessage());
    assertEquals(0, gpu.stepCount(), what + ": steps after the refusal");
  }

  // --- GPU state vs CPU state ------------------------------------------------------------------------------------

  /**
   * K, GPU vs CPU: the same dots summed in another order, relative to max |K| (at most 4e-15 on the emulated driver;
   * the Top-k methods' K came out bitwise there).
   */
  private static final double GRAM = 1e-12;
  /**
   * Low-rank ξ, factors and warm starts, GPU vs CPU, relative to their max-norm: the power iterations sum in another
   * order, and ξ and Q carry the differences from step to step (at most 2e-14 after 26 steps on the emulated driver;
   * see GpuLowRankMfacPipelineTest for how they grow over longer runs).
   */
  private static final double LOW_RANK = 1e-10;

  /**
   * The state a GPU pipeline exported against a CPU pipeline's after the same steps: ξ, Top-k slots and dense window
   * floats bitwise (the GPU selects and rounds as the CPU does); AdaGrad's S bitwise too (S += c² with c a float32
   * value, so c² is exact in float64 and the sums run in the same order on both); K to a relative {@value #GRAM};
   * low-rank ξ, factors and warm starts to {@value #LOW_RANK} (its 1-D tensors are stored raw: bitwise).
   */
  private static void assertHoldsTheCpuState(Method method, PipelineState cpu, PipelineState gpu) {
    double lowRank = method == Method.LOWRANK_MFAC ? LOW_RANK : 0;
    assertStateAgrees("the GPU state", cpu, gpu, new Tolerance(lowRank, GRAM, lowRank));
  }
}
