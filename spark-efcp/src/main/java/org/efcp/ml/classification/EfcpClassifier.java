package org.efcp.ml.classification;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.ml.classification.ProbabilisticClassifier;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.attribute.Attribute;
import org.apache.spark.ml.attribute.BinaryAttribute;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsWritable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.types.StructType;
import org.efcp.ml.train.DatasetSummary;
import org.efcp.cuda.DevicePreference;
import org.efcp.ml.train.TrainingData;
import org.efcp.ml.train.TrainingListener;
import org.efcp.ml.train.StepEngines;
import org.efcp.ml.train.TrainingPlan;
import org.efcp.ml.train.TrainingResult;
import org.efcp.ml.util.PendingUid;
import org.efcp.optim.LearningRateSchedule;
import org.efcp.optim.Method;
import org.efcp.optim.gpu.OptimizerDevice;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.TensorLayout;

/**
 * The params every EFCP classifier shares: the optimizer (MLlib's names where the concept is the same) and the
 * training loop (epochs, mini-batches, checkpoints), plus {@code weightCol}.
 *
 * <p>Training runs in epochs: each epoch visits every row once in a seeded random order, in mini-batches of
 * {@link #batchSize} rows of the whole dataset; one mini-batch is one optimizer step (one Spark job). The
 * defaults were chosen on the tests' and the benchmark's data (see BENCHMARKS.md) and need no tuning there.
 *
 * <p>Estimators are saved with their params only ({@code write().save(path)}, MLlib's JSON metadata); listeners
 * are not saved. Each concrete estimator has a static {@code read()} and {@code load(path)}.
 *
 * @param <E> the concrete estimator
 * @param <M> its model
 */
public abstract class EfcpClassifier<E extends EfcpClassifier<E, M>, M extends EfcpClassificationModel<M>>
    extends ProbabilisticClassifier<Vector, E, M> implements DefaultParamsWritable {
  private static final long serialVersionUID = 1L;

  private static final String[] OPTIMIZERS = {
      "sgd", "adagrad-ef", "dense-mfac", "sparse-mfac", "lowrank-mfac", "dense-ggt", "sparse-ggt"};

  private final String uid;
  private transient List<TrainingListener> listeners;

  private final Param<String> weightCol = new Param<>(this, "weightCol",
      "column of non-negative row weights (empty or unset: every row has weight 1)");
  private final Param<String> optimizer = new Param<>(this, "optimizer",
      "update direction: " + String.join(", ", OPTIMIZERS), ParamValidators.inArray(OPTIMIZERS));
  private final DoubleParam stepSize = new DoubleParam(this, "stepSize",
      "base learning rate η₀ (> 0) multiplied by the lrSchedule factor", ParamValidators.gt(0.0));
  private final IntParam numEpochs = new IntParam(this, "numEpochs",
      "passes over the data (>= 1)", ParamValidators.gtEq(1.0));
  private final IntParam batchSize = new IntParam(this, "batchSize",
      "rows per optimizer step over the whole cluster (>= 1; larger than the data = full batch)",
      ParamValidators.gtEq(1.0));
  private final IntParam gradientWindow = new IntParam(this, "gradientWindow",
      "m, the number of past (compressed) gradients the M-FAC/GGT preconditioner keeps (>= 1)",
      ParamValidators.gtEq(1.0));
  private final DoubleParam density = new DoubleParam(this, "density",
      "fraction of the d coordinates Top-k keeps, in (0, 1]", ParamValidators.inRange(0.0, 1.0, false, true));
  private final IntParam rank = new IntParam(this, "rank",
      "rank of the low-rank compressor (lowrank-mfac; >= 1)", ParamValidators.gtEq(1.0));
  private final DoubleParam damping = new DoubleParam(this, "damping",
      "M-FAC damping λ (> 0) added to the empirical Fisher", ParamValidators.gt(0.0));
  private final DoubleParam ggtEpsilon = new DoubleParam(this, "ggtEpsilon",
      "GGT dampening ε (> 0)", ParamValidators.gt(0.0));
  private final DoubleParam momentum = new DoubleParam(this, "momentum",
      "momentum μ in [0, 1): v = μv + u", ParamValidators.inRange(0.0, 1.0, true, false));
  private final DoubleParam weightDecay = new DoubleParam(this, "weightDecay",
      "decoupled weight decay γ in [0, 1) per step: θ = (1 − γ)θ − ηv", ParamValidators.inRange(0.0, 1.0, true, false));
  private final Param<String> lrSchedule = new Param<>(this, "lrSchedule",
      "learning-rate schedule over all steps: constant, cosine, linear, step or step:F1,F2,...:GAMMA");
  private final DoubleParam clipNorm = new DoubleParam(this, "clipNorm",
      "largest ‖u‖₂ of the preconditioned direction (>= 0; 0 = no clipping)", ParamValidators.gtEq(0.0));
  private final DoubleParam tol = new DoubleParam(this, "tol",
      "stop when the epoch objective changes by less than tol·max(1, |objective|) (>= 0; 0 = run all epochs)",
      ParamValidators.gtEq(0.0));
  private final LongParam seed = new LongParam(this, "seed", "random seed of the row order and initial weights");
  private final IntParam aggregationDepth = new IntParam(this, "aggregationDepth",
      "depth of treeAggregate for the gradient sum (>= 2)", ParamValidators.gtEq(2.0));
  private final IntParam metricsInterval = new IntParam(this, "metricsInterval",
      "steps between preconditioning metrics and progress lines (>= 0; 0 = metrics off, progress per epoch)",
      ParamValidators.gtEq(0.0));
  private final IntParam checkpointInterval = new IntParam(this, "checkpointInterval",
      "steps between checkpoints when checkpointDir is set (>= 1)", ParamValidators.gtEq(1.0));
  private final Param<String> checkpointDir = new Param<>(this, "checkpointDir",
      "Hadoop path where the driver checkpoints weights and optimizer state; a fit resumes from it (empty = off)");
  private final Param<String> device = new Param<>(this, "device",
      "where the optimizer (driver) and the partition gradients (tasks) run: auto (each on its GPU when CUDA works "
          + "there, the method/model has a GPU path and its state or rows fit in the GPU's free memory, else the "
          + "CPU), cpu, or gpu (GPU or an error)",
      ParamValidators.inArray(new String[] {"auto", "cpu", "gpu"}));
  private final Param<String> stepEngine = new Param<>(this, "stepEngine",
      "how partition gradients reach the driver each step: jobs (one Spark job per step), stream (one long-lived "
          + "barrier task per partition streaming to the driver) or auto (stream when every partition gets a "
          + "task slot)", ParamValidators.inArray(StepEngines.MODES));

  /** Constructor chain of subclasses: {@code super(uid)}; see {@link PendingUid}. */
  protected EfcpClassifier(String uid) {
    this(PendingUid.stash(uid), true);
  }

  private EfcpClassifier(String uid, boolean stashed) {
    super();
    this.uid = uid;
    PendingUid.clear();
    setDefault(optimizer, "sparse-mfac");
    setDefault(stepSize, 0.1);
    setDefault(numEpochs, 10);
    setDefault(batchSize, 1024);
    setDefault(gradientWindow, 32);
    setDefault(density, 0.1);
    setDefault(rank, 4);
    setDefault(damping, 1e-3);
    setDefault(ggtEpsilon, 1e-5);
    setDefault(momentum, 0.0);
    setDefault(weightDecay, 0.0);
    setDefault(lrSchedule, "cosine");
    setDefault(clipNorm, 0.0);
    setDefault(tol, 1e-6);
    setDefault(seed, (long) getClass().getName().hashCode());
    setDefault(aggregationDepth, 2);
    setDefault(metricsInterval, 10);
    setDefault(checkpointInterval, 50);
    setDefault(checkpointDir, "");
    setDefault(device, "auto");
    setDefault(stepEngine, "auto");
  }

  @Override
  public String uid() {
    return uid != null ? uid : PendingUid.current();
  }

  @SuppressWarnings("unchecked")
  private E self() {
    return (E) this;
  }

  // ---- params (public no-arg methods: Spark finds params through them) ----

  public Param<String> weightCol() { return weightCol; }
  public Param<String> optimizer() { return optimizer; }
  public DoubleParam stepSize() { return stepSize; }
  public IntParam numEpochs() { return numEpochs; }
  public IntParam batchSize() { return batchSize; }
  public IntParam gradientWindow() { return gradientWindow; }
  public DoubleParam density() { return density; }
  public IntParam rank() { return rank; }
  public DoubleParam damping() { return damping; }
  public DoubleParam ggtEpsilon() { return ggtEpsilon; }
  public DoubleParam momentum() { return momentum; }
  public DoubleParam weightDecay() { return weightDecay; }
  public Param<String> lrSchedule() { return lrSchedule; }
  public DoubleParam clipNorm() { return clipNorm; }
  public DoubleParam tol() { return tol; }
  public LongParam seed() { return seed; }
  public IntParam aggregationDepth() { return aggregationDepth; }
  public IntParam metricsInterval() { return metricsInterval; }
  public IntParam checkpointInterval() { return checkpointInterval; }
  public Param<String> checkpointDir() { return checkpointDir; }
  public Param<String> device() { return device; }
  public Param<String> stepEngine() { return stepEngine; }

  // ---- getters ----

  /** The weight column, or "" when every row has weight 1. */
  public String getWeightCol() { return isDefined(weightCol) ? $(weightCol) : ""; }
  public String getOptimizer() { return $(optimizer); }
  public double getStepSize() { return (Double) $(stepSize); }
  public int getNumEpochs() { return (Integer) $(numEpochs); }
  public int getBatchSize() { return (Integer) $(batchSize); }
  public int getGradientWindow() { return (Integer) $(gradientWindow); }
  public double getDensity() { return (Double) $(density); }
  public int getRank() { return (Integer) $(rank); }
  public double getDamping() { return (Double) $(damping); }
  public double getGgtEpsilon() { return (Double) $(ggtEpsilon); }
  public double getMomentum() { return (Double) $(momentum); }
  public double getWeightDecay() { return (Double) $(weightDecay); }
  public String getLrSchedule() { return $(lrSchedule); }
  public double getClipNorm() { return (Double) $(clipNorm); }
  public double getTol() { return (Double) $(tol); }
  public long getSeed() { return (Long) $(seed); }
  public int getAggregationDepth() { return (Integer) $(aggregationDepth); }
  public int getMetricsInterval() { return (Integer) $(metricsInterval); }
  public int getCheckpointInterval() { return (Integer) $(checkpointInterval); }
  public String getCheckpointDir() { return $(checkpointDir); }
  public String getDevice() { return $(device); }
  public String getStepEngine() { return $(stepEngine); }

  // ---- setters (each validates at once; the error names the param) ----

  /** Rows are weighted by this column (finite, >= 0); "" = unweighted. */
  public E setWeightCol(String value) { set(weightCol, value); return self(); }

  /** sgd, adagrad-ef, dense-mfac, sparse-mfac (default), lowrank-mfac, dense-ggt or sparse-ggt. */
  public E setOptimizer(String value) {
    try {
      set(optimizer, Method.fromName(value).cliName());
    } catch (IllegalArgumentException e) {
      throw renamed("optimizer", e);
    }
    return self();
  }

  /** η₀ > 0 (default 0.1; M-FAC steps are ≈ g/λ where the window has no curvature, so keep η₀/λ ≈ 10–100). */
  public E setStepSize(double value) { set(stepSize, valid(stepSize, value)); return self(); }

  /** Passes over the data, >= 1 (default 10). */
  public E setNumEpochs(int value) { set(numEpochs, valid(numEpochs, value)); return self(); }

  /** Rows per optimizer step over the whole cluster, >= 1 (default 1024). */
  public E setBatchSize(int value) { set(batchSize, valid(batchSize, value)); return self(); }

  /** m, gradients kept by the M-FAC/GGT window, >= 1 (default 32). */
  public E setGradientWindow(int value) { set(gradientWindow, valid(gradientWindow, value)); return self(); }

  /** Top-k fraction in (0, 1]: k = max(1, ⌊density·d⌋) (default 0.1; the paper uses 0.01 at d = 769k). */
  public E setDensity(double value) { set(density, valid(density, value)); return self(); }

  /** Low-rank compressor rank, >= 1 (default 4). */
  public E setRank(int value) { set(rank, valid(rank, value)); return self(); }

  /** M-FAC damping λ > 0 (default 1e-3: with stepSize 0.1 the paper's best logistic-regression pair). */
  public E setDamping(double value) { set(damping, valid(damping, value)); return self(); }

  /** GGT ε > 0 (default 1e-5). */
  public E setGgtEpsilon(double value) { set(ggtEpsilon, valid(ggtEpsilon, value)); return self(); }

  /** μ in [0, 1) (default 0). */
  public E setMomentum(double value) { set(momentum, valid(momentum, value)); return self(); }

  /** Decoupled weight decay γ in [0, 1) per step (default 0). */
  public E setWeightDecay(double value) { set(weightDecay, valid(weightDecay, value)); return self(); }

  /** constant, cosine (default), linear, step or step:F1,F2,...:GAMMA; decays over all steps of the fit. */
  public E setLrSchedule(String value) {
    LearningRateSchedule.parse(value, 1);
    set(lrSchedule, value.trim().toLowerCase(Locale.ROOT));
    return self();
  }

  /** Largest ‖u‖₂, >= 0 (default 0 = off). */
  public E setClipNorm(double value) { set(clipNorm, valid(clipNorm, value)); return self(); }

  /** Relative change of the epoch objective below which training stops, >= 0 (default 1e-6). */
  public E setTol(double value) { set(tol, valid(tol, value)); return self(); }

  public E setSeed(long value) { set(seed, value); return self(); }

  /** treeAggregate depth, >= 2 (default 2). */
  public E setAggregationDepth(int value) {
    set(aggregationDepth, valid(aggregationDepth, value));
    return self();
  }

  /** Steps between metrics records and progress lines, >= 0 (default 10; 0 = off). */
  public E setMetricsInterval(int value) {
    set(metricsInterval, valid(metricsInterval, value));
    return self();
  }

  /** Steps between checkpoints, >= 1 (default 50). */
  public E setCheckpointInterval(int value) {
    set(checkpointInterval, valid(checkpointInterval, value));
    return self();
  }

  /** Hadoop directory for checkpoints ("" = off, the default). */
  public E setCheckpointDir(String value) { set(checkpointDir, value == null ? "" : value); return self(); }

  /** auto (default), cpu or gpu: where the driver's optimizer runs. */
  public E setDevice(String value) {
    set(device, DevicePreference.parse(value).name().toLowerCase(Locale.ROOT));
    return self();
  }

  /**
   * auto (default), jobs or stream: how the partitions' gradients reach the driver. jobs runs one Spark job per
   * step (broadcast θ + treeAggregate); stream keeps one barrier task per partition alive for the whole fit and
   * exchanges θ and gradients with the driver over a socket, which saves the job's overhead every step (tens to
   * hundreds of ms) but needs a free task slot for every partition. auto picks stream when there are enough slots
   * (and barrier stages are possible), else jobs. Both give the same model.
   */
  public E setStepEngine(String value) {
    set(stepEngine, valid(stepEngine, value == null ? null : value.trim().toLowerCase(Locale.ROOT)));
    return self();
  }

  /**
   * {@code value} when {@code param}'s validator accepts it. Setters check through this, so that a bad value
   * fails with a message that starts with the param's name (Spark's own check starts with the uid).
   *
   * @throws IllegalArgumentException "name: value is out of range (doc)"
   */
  protected static <T> T valid(Param<T> param, T value) {
    if (!(Boolean) param.isValid().apply(value)) {
      throw new IllegalArgumentException(param.name() + ": " + value + " is out of range (" + param.doc() + ")");
    }
    return value;
  }

  /** {@code e} (whose message is "name: detail") with its message renamed to "{@code param}: detail". */
  protected static IllegalArgumentException renamed(String param, IllegalArgumentException e) {
    String m = String.valueOf(e.getMessage());
    return new IllegalArgumentException(param + m.substring(Math.max(0, m.indexOf(':'))), e);
  }

  /**
   * Checks the features, label and weight columns before Spark's own schema check, so that a missing or
   * mistyped column fails before any job with a message that names the param and column.
   */
  @Override
  public StructType transformSchema(StructType schema) {
    TrainingData.checkSchema(schema, getFeaturesCol(), getLabelCol(), getWeightCol());
    return super.transformSchema(schema);
  }

  /**
   * Adds a listener that receives every step record and epoch end during {@code fit} on the driver. Listeners
   * are not params: they are neither copied nor saved.
   */
  public E addListener(TrainingListener listener) {
    if (listener == null) {
      throw new IllegalArgumentException("listener: must not be null");
    }
    if (listeners == null) {
      listeners = new ArrayList<>();
    }
    listeners.add(listener);
    return self();
  }

  /** The listeners added so far (live list). */
  protected List<TrainingListener> listeners() {
    return listeners == null ? List.of() : listeners;
  }

  /**
   * The optimizer configuration for parameters laid out as {@code layout} over {@code totalSteps} steps.
   *
   * @throws IllegalArgumentException naming the param whose value does not fit (e.g. a density that keeps no
   *     coordinate)
   */
  protected OptimizerConfig optimizerConfig(TensorLayout layout, long totalSteps) {
    Method method = Method.fromName(getOptimizer());
    OptimizerConfig.Builder b = OptimizerConfig.builder(method, layout)
        .learningRate(getStepSize())
        .schedule(LearningRateSchedule.parse(getLrSchedule(), totalSteps))
        .momentum(getMomentum())
        .weightDecay(getWeightDecay())
        .clipNorm(getClipNorm())
        .seed(getSeed())
        .damping(getDamping())
        .ggtEpsilon(getGgtEpsilon())
        .rank(getRank())
        .density(topKCount(getDensity(), layout.dimension()));
    if (method.hasWindow()) {
      b.window(getGradientWindow());
    }
    return b.build();
  }

  /**
   * k = max(1, ⌊density·d⌋) as the count the core's density argument takes (a value &gt; 1 is read as a count and
   * truncated, so k + 0.5 means exactly k; 1.0 means all d): small models keep at least one coordinate.
   */
  private static double topKCount(double density, int d) {
    int k = Math.max(1, (int) (density * d));
    return k >= d ? 1.0 : k + 0.5;
  }

  /** The training-loop settings of these params, for a model with {@code numParameters} parameters. */
  protected TrainingPlan.Builder planBuilder() {
    return TrainingPlan.builder()
        .numEpochs(getNumEpochs())
        .batchSize(getBatchSize())
        .seed(getSeed())
        .tol(getTol())
        .aggregationDepth(getAggregationDepth())
        .metricsInterval(getMetricsInterval())
        .checkpointInterval(getCheckpointInterval())
        .checkpointDir(getCheckpointDir())
        .device(DevicePreference.parse(getDevice()))
        .stepEngine(getStepEngine())
        .listeners(listeners());
  }

  /**
   * Checks {@code device=gpu} before any job: the driver must have a working GPU, the optimizer's sizes must fit the
   * GPU kernels (GGT: window ≤ 128). Whether the executors' GPUs work is only known in their tasks (a task without
   * one fails the fit with the reason).
   */
  protected void checkDevice() {
    if (!"gpu".equals(getDevice())) {
      return;
    }
    try {
      OptimizerDevice.choose(DevicePreference.GPU, Method.fromName(getOptimizer()), getGradientWindow(), getRank());
    } catch (IllegalStateException e) {
      throw new IllegalArgumentException(e.getMessage(), e);
    }
  }

  /**
   * Refuses {@code stepEngine=stream} before any job when the cluster has fewer task slots than the dataset has
   * partitions (or cannot run barrier stages).
   */
  protected void checkStepEngine(org.apache.spark.sql.Dataset<?> dataset) {
    StepEngines.check(getStepEngine(), dataset.sparkSession().sparkContext(), dataset.rdd().getNumPartitions());
  }

  /** The number of classes the label column's ML attribute metadata declares, or -1. */
  protected int declaredNumClasses(Dataset<?> dataset) {
    if (!java.util.Arrays.asList(dataset.schema().fieldNames()).contains(getLabelCol())) {
      return -1;
    }
    Attribute a = Attribute.fromStructField(dataset.schema().apply(getLabelCol()));
    if (a instanceof BinaryAttribute) {
      return 2;
    }
    if (a instanceof NominalAttribute n && n.getNumValues().isDefined()) {
      return (Integer) n.getNumValues().get();
    }
    return -1;
  }

  /**
   * The number of classes: the declared one (labels must stay below it), else the largest label + 1 (≥ 2).
   *
   * @throws IllegalArgumentException "labelCol ...: ..." for a label ≥ the declared number
   */
  protected int numClasses(DatasetSummary summary, int declared) {
    if (declared > 0) {
      if (summary.labelCount() > declared) {
        throw new IllegalArgumentException("labelCol '" + getLabelCol() + "': label " + (summary.labelCount() - 1)
            + " is not below the " + declared + " classes its metadata declares");
      }
      return declared;
    }
    return Math.max(2, summary.labelCount());
  }

  /** 1/σ_j, or 0 where σ_j = 0 (a constant feature carries nothing the intercept does not). */
  protected static double[] inverseStd(double[] std) {
    double[] out = new double[std.length];
    for (int j = 0; j < std.length; j++) {
      out[j] = std[j] > 0 ? 1.0 / std[j] : 0.0;
    }
    return out;
  }

  /** Params that change no weight: a checkpoint written under other values of these still fits. */
  private static final java.util.Set<String> NOT_IN_FINGERPRINT = java.util.Set.of("checkpointDir",
      "checkpointInterval", "metricsInterval", "device", "predictionCol", "rawPredictionCol", "probabilityCol",
      "thresholds");

  /** The param values that determine the trained weights, as "name=value;…" sorted by name. */
  protected String fingerprint() {
    java.util.TreeMap<String, String> values = new java.util.TreeMap<>();
    for (org.apache.spark.ml.param.Param<?> p : params()) {
      if (!NOT_IN_FINGERPRINT.contains(p.name()) && isDefined(p)) {
        Object v = getOrDefault(p);
        values.put(p.name(), v instanceof double[] a ? java.util.Arrays.toString(a)
            : v instanceof int[] a ? java.util.Arrays.toString(a) : String.valueOf(v));
      }
    }
    StringBuilder sb = new StringBuilder(getClass().getSimpleName());
    values.forEach((k, v) -> sb.append(';').append(k).append('=').append(v));
    return sb.toString();
  }

  /** Gives {@code model} its training summary (predictions on the training data, computed lazily). */
  protected void attachSummary(M model, Dataset<?> dataset, TrainingResult result, long startNanos) {
    M copy = model.copy(ParamMap.empty());
    String predictionCol = copy.getPredictionCol();
    if (predictionCol.isEmpty()) {
      predictionCol = "prediction_" + java.util.UUID.randomUUID().toString().replace('-', '_');
      copy.setPredictionCol(predictionCol);
    }
    model.setSummary(new EFCPTrainingSummary(copy.transform(dataset), predictionCol, getLabelCol(),
        getWeightCol(), result, (System.nanoTime() - startNanos) * 1e-9));
  }
}
