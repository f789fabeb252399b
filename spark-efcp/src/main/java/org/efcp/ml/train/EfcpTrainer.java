package org.efcp.ml.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Supplier;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.efcp.cuda.CudaException;
import org.efcp.cuda.DevicePreference;
import org.efcp.cuda.GpuContext;
import org.efcp.ml.train.gpu.DeviceGradients;
import org.efcp.ml.train.gpu.ExecutorDeviceRows;
import org.efcp.model.DifferentiableModel;
import org.efcp.optim.EfcpOptimizer;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.StepResult;
import org.efcp.optim.gpu.OptimizerDevice;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The distributed training loop: per step, ship the weights to the partitions, let every partition compute its
 * share of the global mini-batch gradient ({@link PartitionGradient}), sum the shares in a fixed order
 * ({@link GradientPartial}), and let the driver's {@link EfcpOptimizer} turn the mean gradient into new weights.
 * A {@link StepEngine} does the shipping and summing: one Spark job per step, or long-lived streaming tasks
 * ({@link StepEngines}). Weights travel as float32 and shares come back as float32 under both engines; the
 * driver keeps θ, the sums and the optimizer in double.
 *
 * <p>Mini-batches: epoch e visits the rows in the order of a seeded permutation ({@link EpochPermutation} of the
 * global row index = partition offset + position in the partition); step s takes the rows at positions
 * [sB, (s+1)B). Every row is used once per epoch, and the same seed and partitioning give the same model on any
 * cluster: each partition's share is computed in row order and the shares are summed along a fixed tree.
 */
public final class EfcpTrainer {
  private static final Logger LOG = LoggerFactory.getLogger(EfcpTrainer.class);

  private EfcpTrainer() {}

  /** Steps per epoch: ⌈rows / batchSize⌉. */
  public static long stepsPerEpoch(DatasetSummary summary, int batchSize) {
    return (summary.numRows() + batchSize - 1) / batchSize;
  }

  /**
   * Trains {@code model} from {@code initial}.
   *
   * @param data the prepared rows (not unpersisted here)
   * @param featureScale per-feature multipliers applied to the rows of every mini-batch (standardization), or null
   * @throws IllegalStateException on divergence: names the step and the last finite loss
   */
  public static TrainingResult train(TrainingData data, DifferentiableModel model, double[] initial,
      OptimizerConfig config, TrainingPlan plan, double[] featureScale) {
    long start = System.nanoTime();
    JavaRDD<TrainingBlock> blocks = data.blocks();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(blocks.context());
    DatasetSummary summary = data.summary();
    int d = model.numParameters();
    if (initial.length != d) {
      throw new IllegalArgumentException("initial: expected " + d + " parameters, got " + initial.length);
    }
    long numRows = summary.numRows();
    int batchSize = plan.batchSize();
    long stepsPerEpoch = stepsPerEpoch(summary, batchSize);
    int numPartitions = blocks.getNumPartitions();
    long[] offsets = summary.partitionOffsets();
    String fingerprint = fingerprint(plan, summary, model, numPartitions);

    OptimizerDevice placement = OptimizerDevice.choose(plan.device(), config.method(), config.window(),
        config.rank());
    EfcpOptimizer optimizer = newOptimizer(config, placement, plan.device());
    double[] theta = initial.clone();
    List<StepRecord> records = new ArrayList<>();
    List<Double> history = new ArrayList<>();
    int firstEpoch = 1;
    long firstStepInEpoch = 0;
    double epochLoss = 0;
    double epochWeight = 0;
    long resumedFrom = -1;
    if (plan.checkpointing()) {
      TrainingCheckpoint c = TrainingCheckpoint.latest(plan.checkpointDir(), fingerprint, jsc.hadoopConfiguration());
      if (c != null) {
        optimizer = resume(optimizer, c.optimizer(), plan.device());
        theta = c.theta.clone();
        records.addAll(c.records);
        for (double h : c.objectiveHistory) {
          history.add(h);
        }
        firstEpoch = c.epoch;
        firstStepInEpoch = c.nextStepInEpoch;
        epochLoss = c.epochLoss;
        epochWeight = c.epochWeight;
        resumedFrom = c.nextStep;
        LOG.info("EFCP resuming from checkpoint at step {} (epoch {}) in {}", c.nextStep, c.epoch,
            plan.checkpointDir());
      }
    }

    double lastFiniteLoss = Double.NaN;
    long lastFiniteStep = -1;
    if (!records.isEmpty()) {
      lastFiniteLoss = records.get(records.size() - 1).loss();
      lastFiniteStep = records.get(records.size() - 1).step();
    }
    boolean converged = history.size() >= 2 && converged(history, plan.tol());
    long rowsSinceLog = 0;
    long logStart = System.nanoTime();
    String savedDescription = jsc.getLocalProperty("spark.job.description");
    DevicePreference executorDevice = executorDevice(plan.device(), model);
    ExecutorDeviceRows deviceRows = executorDevice == DevicePreference.CPU ? null
        : ExecutorDeviceRows.open(jsc.sc());
    PartitionGradient kernel = new PartitionGradient(model, offsets, numRows, plan.seed(), batchSize,
        executorDevice, deviceRows);
    // The CPU is the quiet case: CudaProbe has already said once why there is no GPU.
    if (optimizer.device().equals("gpu")) {
      LOG.info("EFCP optimizer on the GPU ({}); executor gradients: device={}", placement.reason(),
          plan.device().name().toLowerCase(Locale.ROOT));
    } else {
      LOG.debug("EFCP optimizer on the CPU ({})", placement.reason());
    }
    long exchange = 0;
    String engineName;
    try (StepEngine engine = StepEngines.open(plan.stepEngine(), blocks, kernel, featureScale,
        plan.aggregationDepth())) {
      engineName = engine.name();
      for (int epoch = firstEpoch; epoch <= plan.numEpochs() && !converged; epoch++) {
        for (long s = epoch == firstEpoch ? firstStepInEpoch : 0; s < stepsPerEpoch; s++) {
          jsc.setJobDescription(String.format(Locale.ROOT, "EFCP epoch %d/%d step %d/%d", epoch,
              plan.numEpochs(), s + 1, stepsPerEpoch));
          StepEngine.StepGradient step = engine.gradient(theta, epoch, s, exchange++);
          BatchTotals sum = step.totals();
          long t2 = System.nanoTime();
          double weight = sum.weight();
          if (!(weight > 0)) {
            continue; // every row of this mini-batch has weight 0: nothing to learn from
          }
          double loss = sum.loss() / weight;
          double[] g = step.gradient();
          double inv = 1.0 / weight;
          boolean finite = Double.isFinite(loss);
          for (int i = 0; i < d; i++) {
            g[i] *= inv;
            finite &= Double.isFinite(g[i]);
          }
          long globalStep = optimizer.stepCount();
          if (!finite) {
            throw divergence(globalStep, epoch, "the loss or gradient is not finite (loss " + loss + ")",
                lastFiniteLoss, lastFiniteStep);
          }
          boolean withMetrics = plan.metricsInterval() > 0 && globalStep % plan.metricsInterval() == 0;
          StepResult r = optimizer.step(theta, g, withMetrics);
          long t3 = System.nanoTime();
          for (double v : theta) {
            if (!Double.isFinite(v)) {
              throw divergence(globalStep, epoch, "the weights became non-finite", loss, globalStep);
            }
          }
          lastFiniteLoss = loss;
          lastFiniteStep = globalStep;
          epochLoss += sum.loss();
          epochWeight += weight;
          StepRecord record = StepRecord.of(epoch, (int) s, sum.rows(), loss, r, step.shipMillis(),
              step.gatherMillis(), millis(t2, t3));
          records.add(record);
          for (TrainingListener l : plan.listeners()) {
            l.onStep(record);
          }
          rowsSinceLog += sum.rows();
          if (plan.metricsInterval() > 0 && (globalStep + 1) % plan.metricsInterval() == 0) {
            long now = System.nanoTime();
            LOG.info(String.format(Locale.ROOT, "EFCP epoch %d/%d step %d/%d loss %.6g rows/s %.0f", epoch,
                plan.numEpochs(), s + 1, stepsPerEpoch, loss, rowsSinceLog / ((now - logStart) * 1e-9)));
            rowsSinceLog = 0;
            logStart = now;
          }
          if (plan.checkpointing() && optimizer.stepCount() % plan.checkpointInterval() == 0) {
            double[] h = history.stream().mapToDouble(Double::doubleValue).toArray();
            new TrainingCheckpoint(fingerprint, optimizer.stepCount(), epoch, (int) s + 1, theta, epochLoss,
                epochWeight, h, records).write(plan.checkpointDir(), jsc.hadoopConfiguration(), optimizer);
          }
        }
        double objective = epochLoss / epochWeight;
        history.add(objective);
        epochLoss = 0;
        epochWeight = 0;
        for (TrainingListener l : plan.listeners()) {
          l.onEpochEnd(epoch, objective);
        }
        LOG.info(String.format(Locale.ROOT, "EFCP epoch %d/%d done: objective %.6g, %d steps", epoch,
            plan.numEpochs(), objective, optimizer.stepCount()));
        converged = converged(history, plan.tol());
      }
    } finally {
      optimizer.close();
      if (deviceRows != null) {
        releaseDeviceRows(jsc, deviceRows, blocks);
      }
      jsc.setJobDescription(savedDescription);
    }
    double[] objectiveHistory = history.stream().mapToDouble(Double::doubleValue).toArray();
    return new TrainingResult(theta, objectiveHistory, List.copyOf(records), optimizer.stepCount(),
        optimizer.memoryBytes(), (System.nanoTime() - start) * 1e-9, resumedFrom, optimizer.device(), engineName);
  }

  /**
   * Frees the rows the fit kept on executor GPUs, before its blocks are unpersisted (see
   * {@link ExecutorDeviceRows#release}); no job when no task computed on a GPU. A failure to free them is logged,
   * not thrown: it must not hide the fit's own outcome, and executors free them at their next fits anyway.
   */
  private static void releaseDeviceRows(JavaSparkContext jsc, ExecutorDeviceRows deviceRows,
      JavaRDD<TrainingBlock> blocks) {
    DeviceGradients.releaseFit(deviceRows.fit()); // the driver's own JVM (local mode), whatever happens below
    long gpuSteps = deviceRows.gpuSteps();
    if (gpuSteps == 0 || jsc.sc().isStopped()) {
      return;
    }
    try {
      jsc.setJobDescription("EFCP: free the fit's rows on executor GPUs");
      Set<String> executors = deviceRows.release(blocks);
      LOG.info("EFCP freed the fit's rows on the GPUs of executors {} ({} partition steps ran on GPUs)", executors,
          gpuSteps);
    } catch (RuntimeException e) {
      LOG.warn("EFCP could not free the fit's rows on executor GPUs (executors free them at their next fits): {}",
          e.toString());
    }
  }

  /**
   * Where tasks compute gradients: the plan's device, or the CPU for a model without a GPU gradient (refused for
   * device=gpu).
   */
  static DevicePreference executorDevice(DevicePreference device, DifferentiableModel model) {
    if (device == DevicePreference.CPU || DeviceGradients.supports(model)) {
      return device;
    }
    if (device == DevicePreference.GPU) {
      throw new IllegalArgumentException("device: gpu is not available for " + model.getClass().getSimpleName()
          + " (no GPU gradient); use auto or cpu");
    }
    return DevicePreference.CPU;
  }

  /**
   * The driver's optimizer where {@code placement} says. When its state does not fit in GPU 0's free memory,
   * device=auto falls back to the CPU (one warning) and device=gpu fails with the reason.
   *
   * @throws IllegalStateException for device=gpu when the GPU has no room for the optimizer state
   */
  private static EfcpOptimizer newOptimizer(OptimizerConfig config, OptimizerDevice placement, DevicePreference device) {
    if (!placement.gpu()) {
      return new EfcpOptimizer(config);
    }
    return onGpuOr(config, device, () -> EfcpOptimizer.onGpu(config, GpuContext.open(0)),
        () -> new EfcpOptimizer(config));
  }

  /**
   * The optimizer a fit resumes with: the checkpoint's {@code restored} state (on the host) where {@code fresh} runs,
   * so a fit checkpointed on a GPU may resume on the CPU and the other way round. {@code fresh} is closed first, to
   * make room on the GPU.
   */
  private static EfcpOptimizer resume(EfcpOptimizer fresh, EfcpOptimizer restored, DevicePreference device) {
    boolean gpu = fresh.device().equals("gpu");
    fresh.close();
    return gpu ? onGpuOr(restored.config(), device, () -> restored.toGpu(GpuContext.open(0)), () -> restored)
        : restored;
  }

  /**
   * The optimizer {@code onGpu} builds on GPU 0. When its state does not fit in the GPU's free memory, device=auto
   * takes {@code onHost}'s instead (one warning) and device=gpu fails with the reason.
   *
   * @throws IllegalStateException for device=gpu when the GPU has no room for the optimizer state
   */
  private static EfcpOptimizer onGpuOr(OptimizerConfig config, DevicePreference device,
      Supplier<EfcpOptimizer> onGpu, Supplier<EfcpOptimizer> onHost) {
    try {
      return onGpu.get();
    } catch (CudaException e) {
      if (!e.isOutOfMemory()) {
        throw e;
      }
      String why = "the " + config.method().cliName() + " optimizer state (d = " + config.dimension() + ") does not fit in "
          + "GPU 0's free memory (" + e.getMessage() + ")";
      if (device == DevicePreference.GPU) {
        throw new IllegalStateException("device: gpu: " + why + "; use device=auto or cpu, or a smaller "
            + "gradientWindow", e);
      }
      LOG.warn("EFCP device=auto: {}; the optimizer runs on the CPU", why);
      return onHost.get();
    }
  }

  private static boolean converged(List<Double> history, double tol) {
    int n = history.size();
    if (tol <= 0 || n < 2) {
      return false;
    }
    double prev = history.get(n - 2);
    double cur = history.get(n - 1);
    return Math.abs(prev - cur) < tol * Math.max(1.0, Math.abs(cur));
  }

  private static IllegalStateException divergence(long step, int epoch, String what, double lastLoss,
      long lastStep) {
    String last = lastStep < 0 ? "no finite loss before it"
        : String.format(Locale.ROOT, "last finite loss %.6g at step %d", lastLoss, lastStep);
    return new IllegalStateException(String.format(Locale.ROOT,
        "EFCP training diverged at step %d (epoch %d): %s; %s. No model is returned: lower stepSize, raise "
            + "damping or set clipNorm.", step, epoch, what, last));
  }

  private static String fingerprint(TrainingPlan plan, DatasetSummary s, DifferentiableModel model,
      int numPartitions) {
    return plan.fingerprint() + ";model=" + model.getClass().getSimpleName() + "/" + model.numParameters()
        + ";rows=" + s.numRows() + ";features=" + s.numFeatures() + ";partitions=" + numPartitions
        + ";weightSum=" + Double.toHexString(s.weightSum()) + ";batchSize=" + plan.batchSize()
        + ";numEpochs=" + plan.numEpochs() + ";seed=" + plan.seed() + ";tol=" + plan.tol();
  }

  private static double millis(long from, long to) {
    return (to - from) * 1e-6;
  }
}
