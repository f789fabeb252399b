package org.efcp.examples;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.Metadata;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.efcp.ml.cluster.LocalStandaloneCluster;
import org.efcp.ml.train.EfcpTrainer;
import org.efcp.ml.train.StepRecord;
import org.efcp.ml.train.TrainingData;
import org.efcp.ml.train.TrainingListener;
import org.efcp.ml.train.TrainingPlan;
import org.efcp.ml.train.TrainingResult;
import org.efcp.model.Activation;
import org.efcp.model.DifferentiableModel;
import org.efcp.model.MultilayerPerceptron;
import org.efcp.model.MultinomialLogisticRegression;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;

/**
 * Per-step cost of the two step engines ("jobs": broadcast + one {@code treeAggregate} job per step; "stream":
 * long-lived barrier tasks streaming gradients to the driver), measured in one run with
 * {@link EfcpTrainer#train} and the plain SGD optimizer (so the driver's optimizer work is minimal), for
 * <ul>
 *   <li>three sizes: d = 7,850 (multinomial LR 784→10, MNIST), 769,000 (LR 768→1000, CLIP linear probe) and
 *       ≈ 5,800,000 (MLP 784-2048-2048-10, d = 5,824,522);</li>
 *   <li>two masters, each with {@code --partitions} partitions: {@code local[2]} and a 2-executor standalone
 *       cluster ({@link LocalStandaloneCluster}, executors of 1 core and
 *       {@value LocalStandaloneCluster#EXECUTOR_MEMORY});</li>
 *   <li>two variants: {@code zero} ({@link ZeroComputeModel}: d parameters, no gradient compute, 16 features)
 *       and {@code real} (the LR or MLP model on Gaussian features with uniform labels; batch 1024 for LR, 256
 *       for the MLP; the zero variant uses the same batch).</li>
 * </ul>
 * Every fit runs {@code --warmup} steps, then {@code --steps} measured steps ({@code --slow-steps} for the real
 * MLP); every step has a full batch (rows per epoch are a multiple of the batch) and the rows are cached
 * ({@link TrainingData#prepare}) before the fits. Each engine fits {@code --rounds} times per configuration, in
 * alternating order (jobs, stream, stream, jobs, …) so that neither engine always runs first, and the measured
 * steps of its fits are pooled. Each session first runs a short untimed fit per engine so the JIT and the
 * executors are warm. Per engine the table gives the medians of broadcastMillis + aggregateMillis
 * ("transport": shipping the weights and getting the summed gradient back, the executors' compute included),
 * of each part, of optimizerMillis, and the mean wall time per step on the driver; ratios are jobs / stream.
 *
 * <p>Output: the Markdown report (date, cores, BLAS, load average, the table) on stdout and in
 * {@code --output}/step-engines.md, and every measured step in {@code --output}/steps.csv.
 *
 * <p>Arguments (defaults): {@code --dims 7850,769000,5800000 --masters local,cluster --variants zero,real
 * --engines jobs,stream --steps 30 --slow-steps 10 --warmup 5 --rounds 2 --partitions 2 --seed 1
 * --output target/step-engine-benchmark}. Bad arguments print one error line and exit 2.
 *
 * <p>Run from the repository root after {@code mvn -q -B -o install -DskipTests} (the class is in the examples
 * module's test sources: it needs {@link LocalStandaloneCluster} from the spark-efcp test-jar):
 * <pre>
 * mvn -o -q -pl examples dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/test.cp
 * java $(sed -n 's:.*&lt;spark.jvm.flags&gt;\(.*\)&lt;/spark.jvm.flags&gt;.*:\1:p' pom.xml) -Xss16m -Xmx8g \
 *   -cp examples/target/test-classes:examples/target/classes:spark-efcp/target/test-classes:spark-efcp/target/classes:efcp-core/target/classes:rapids-kernels/target/classes:$(cat examples/target/test.cp) \
 *   org.efcp.examples.StepEngineBenchmark --dims 7850,769000 --masters local --variants zero --steps 30
 * </pre>
 * The worktree's class directories come before the jars of the local Maven repository so that the run uses the
 * code as checked out (another build may have installed other jars), and so that {@link LocalStandaloneCluster}
 * is loaded from {@code spark-efcp/target/test-classes}: it finds Spark's jar list in
 * {@code spark-efcp/target/spark-classpath.txt} beside its class directory. The executors get the same class path.
 */
public final class StepEngineBenchmark {

  static final List<Integer> DIMS = List.of(7_850, 769_000, 5_800_000);
  static final List<String> MASTERS = List.of("local", "cluster");
  static final List<String> VARIANTS = List.of("zero", "real");
  static final List<String> ENGINES = List.of("jobs", "stream");

  /** Features of the zero-compute data: the rows only have to exist. */
  private static final int ZERO_FEATURES = 16;
  /** Most feature values per epoch of data (64 MB of doubles): the executors have 768 MB heaps. */
  private static final long MAX_VALUES_PER_EPOCH = 8L << 20;
  private static final double LEARNING_RATE = 1e-3;

  private StepEngineBenchmark() {
  }

  /**
   * The parsed arguments.
   *
   * @param dims sizes from {@link #DIMS}, in the given order
   * @param masters "local" and/or "cluster"
   * @param variants "zero" and/or "real"
   * @param engines "jobs" and/or "stream"
   * @param steps measured steps per fit
   * @param slowSteps measured steps of the real MLP fits
   * @param warmup untimed steps before the measured ones, ≥ 1
   * @param rounds fits per engine and configuration, in alternating engine order (jobs, stream, stream, jobs, …);
   *     their measured steps are pooled
   * @param partitions partitions of the data (and tasks per step)
   * @param seed seed of the data, the initial weights and the row order
   * @param output directory of step-engines.md and steps.csv
   */
  record Options(List<Integer> dims, List<String> masters, List<String> variants, List<String> engines, int steps,
      int slowSteps, int warmup, int rounds, int partitions, long seed, Path output) {

    static Options parse(String[] args) {
      Map<String, String> defaults = new LinkedHashMap<>();
      defaults.put("--dims", "7850,769000,5800000");
      defaults.put("--masters", "local,cluster");
      defaults.put("--variants", "zero,real");
      defaults.put("--engines", "jobs,stream");
      defaults.put("--steps", "30");
      defaults.put("--slow-steps", "10");
      defaults.put("--warmup", "5");
      defaults.put("--rounds", "2");
      defaults.put("--partitions", "2");
      defaults.put("--seed", "1");
      defaults.put("--output", "target/step-engine-benchmark");
      CommandLine cl = CommandLine.parse(args, defaults);
      List<Integer> dims = cl.positiveIntList("--dims");
      for (int d : dims) {
        if (!DIMS.contains(d)) {
          throw new IllegalArgumentException("--dims: " + d + " is not one of " + DIMS);
        }
      }
      if (dims.isEmpty()) {
        throw new IllegalArgumentException("--dims: expected at least one of " + DIMS);
      }
      String output = cl.string("--output");
      if (output.isBlank()) {
        throw new IllegalArgumentException("--output: must not be empty");
      }
      return new Options(dims, choices(cl, "--masters", MASTERS), choices(cl, "--variants", VARIANTS),
          choices(cl, "--engines", ENGINES), cl.positiveInt("--steps"), cl.positiveInt("--slow-steps"),
          cl.positiveInt("--warmup"), cl.positiveInt("--rounds"), cl.positiveInt("--partitions"),
          cl.positiveLong("--seed"), Path.of(output));
    }

    /** A non-empty comma-separated subset of {@code allowed}, in the given order. */
    private static List<String> choices(CommandLine cl, String name, List<String> allowed) {
      List<String> out = new ArrayList<>();
      for (String part : cl.string(name).split(",")) {
        String v = part.trim().toLowerCase(Locale.ROOT);
        if (!allowed.contains(v)) {
          throw new IllegalArgumentException(name + ": '" + part.trim() + "' is not one of " + allowed);
        }
        if (!out.contains(v)) {
          out.add(v);
        }
      }
      return out;
    }

    /** Measured steps of a fit: {@link #slowSteps} for the real MLP, {@link #steps} otherwise. */
    int measuredSteps(Workload w, String variant) {
      return w.mlp() && variant.equals("real") ? slowSteps : steps;
    }
  }

  /** One size: the real model and its batch. */
  record Workload(int key, String name, DifferentiableModel model, int batch, boolean mlp) {

    static Workload of(int key) {
      return switch (key) {
        case 7_850 -> new Workload(key, "LR 784→10", new MultinomialLogisticRegression(784, 10, true), 1024, false);
        case 769_000 -> new Workload(key, "LR 768→1000", new MultinomialLogisticRegression(768, 1000, true), 1024,
            false);
        case 5_800_000 -> new Workload(key, "MLP 784-2048-2048-10",
            new MultilayerPerceptron(new int[] {784, 2048, 2048, 10}, Activation.RELU), 256, true);
        default -> throw new IllegalArgumentException("--dims: " + key + " is not one of " + DIMS);
      };
    }

    DifferentiableModel model(String variant) {
      return variant.equals("zero")
          ? new ZeroComputeModel(ZERO_FEATURES, model.numClasses(), model.numParameters()) : model;
    }
  }

  public static void main(String[] args) throws IOException {
    Options options;
    try {
      options = Options.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("StepEngineBenchmark: " + e.getMessage());
      System.exit(2);
      return;
    }
    String started = ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_LOCAL_DATE_TIME);
    double loadBefore = loadAverage();
    StepEngineTable table = new StepEngineTable();
    StringBuilder csv = new StringBuilder("master,model,d,variant,engine,round,ran,step,broadcast_ms,"
        + "aggregate_ms,optimizer_ms\n");
    List<String> errors = new ArrayList<>();
    for (String master : options.masters()) {
      try {
        runMaster(master, options, table, csv);
      } catch (RuntimeException e) {
        errors.add(master + ": " + firstLine(e));
        e.printStackTrace();
      }
    }
    String report = report(options, args, started, loadBefore, loadAverage(), table, errors);
    System.out.println(report);
    Files.createDirectories(options.output());
    Files.writeString(options.output().resolve("step-engines.md"), report);
    Files.writeString(options.output().resolve("steps.csv"), csv.toString());
    System.out.println("written: " + options.output().resolve("step-engines.md") + ", "
        + options.output().resolve("steps.csv"));
  }

  private static void runMaster(String master, Options options, StepEngineTable table, StringBuilder csv) {
    if (master.equals("local")) {
      SparkSession spark = SparkSession.builder()
          .appName("StepEngineBenchmark")
          .master("local[2]")
          .config("spark.driver.host", "127.0.0.1")
          .config("spark.driver.bindAddress", "127.0.0.1")
          .config("spark.ui.enabled", "false")
          .getOrCreate();
      try {
        runSession(spark, "local[2]", options, table, csv);
      } finally {
        spark.stop();
      }
      return;
    }
    try (LocalStandaloneCluster cluster = LocalStandaloneCluster.start(2)) {
      SparkSession spark = cluster.startSession("StepEngineBenchmark");
      try {
        runSession(spark, "standalone, 2 executors", options, table, csv);
      } finally {
        spark.stop();
      }
    }
  }

  private static void runSession(SparkSession spark, String master, Options options, StepEngineTable table,
      StringBuilder csv) {
    spark.sparkContext().setLogLevel("WARN");
    warmUp(spark, options);
    for (int key : options.dims()) {
      Workload w = Workload.of(key);
      for (String variant : options.variants()) {
        table.add(measure(spark, master, w, variant, options, csv));
      }
    }
  }

  /** Both engines on one cached data set, {@code rounds} fits each in alternating order, measured steps pooled. */
  private static StepEngineTable.Row measure(SparkSession spark, String master, Workload w, String variant,
      Options options, StringBuilder csv) {
    DifferentiableModel model = w.model(variant);
    int measured = options.measuredSteps(w, variant);
    int warmup = options.warmup();
    int total = warmup + measured;
    int epochs = epochsFor(total, w.batch(), model.numFeatures());
    long rows = (long) ((total + epochs - 1) / epochs) * w.batch();
    System.out.printf(Locale.ROOT, "%s %s %s: %d rows × %d features, %d epochs, %d + %d steps × %d rounds%n",
        master, w.name(), variant, rows, model.numFeatures(), epochs, warmup, measured, options.rounds());
    Map<String, Pool> pools = new LinkedHashMap<>();
    Map<String, String> failed = new LinkedHashMap<>();
    try (TrainingData data = TrainingData.prepare(
        randomRows(spark, rows, model.numFeatures(), model.numClasses(), options.partitions(), options.seed()),
        "features", "label", null)) {
      double[] initial = model.initialParameters(options.seed());
      for (int round = 0; round < options.rounds(); round++) {
        List<String> order = new ArrayList<>(options.engines());
        if (round % 2 == 1) {
          Collections.reverse(order);
        }
        for (String engine : order) {
          if (failed.containsKey(engine)) {
            continue;
          }
          try {
            Fit fit = fit(data, model, initial, engine, w.batch(), epochs, options.seed());
            String ran = fit.result().stepEngine();
            List<StepRecord> steps = fit.result().steps().subList(warmup, total);
            double wall = (fit.clock().endNanos(total - 1) - fit.clock().endNanos(warmup - 1)) * 1e-6;
            pools.computeIfAbsent(engine, e -> new Pool()).add(ran, steps, wall);
            for (StepRecord r : steps) {
              csv.append(String.format(Locale.ROOT, "%s,%s,%d,%s,%s,%d,%s,%d,%.3f,%.3f,%.3f%n", csvField(master),
                  csvField(w.name()), model.numParameters(), variant, engine, round, ran, r.step(),
                  r.broadcastMillis(), r.aggregateMillis(), r.optimizerMillis()));
            }
            System.out.printf(Locale.ROOT, "  round %d %s (ran %s): transport %s ms (median), step wall %s ms%n",
                round, engine, ran, StepEngineTable.ms(StepTimings.of(ran, steps, wall).transport()),
                StepEngineTable.ms(wall / measured));
          } catch (RuntimeException e) {
            failed.put(engine, engine + " failed: " + firstLine(e));
            e.printStackTrace();
          }
        }
      }
    }
    Pool jobs = pools.get("jobs");
    Pool stream = pools.get("stream");
    return new StepEngineTable.Row(master, w.name(), model.numParameters(), variant, w.batch(),
        jobs == null ? null : jobs.timings(), stream == null ? null : stream.timings(),
        String.join("; ", failed.values()));
  }

  /** The measured steps of one engine's fits in one configuration. */
  private static final class Pool {
    private final List<StepRecord> steps = new ArrayList<>();
    private double wallMillis;
    private String ran;

    void add(String engine, List<StepRecord> measured, double wall) {
      steps.addAll(measured);
      wallMillis += wall;
      ran = ran == null || ran.equals(engine) ? engine : ran + "+" + engine;
    }

    StepTimings timings() {
      return StepTimings.of(ran, steps, wallMillis);
    }
  }

  /** An untimed zero-compute fit per engine, so that the first measured fit does not pay for JIT and start-up. */
  private static void warmUp(SparkSession spark, Options options) {
    Workload w = Workload.of(7_850);
    DifferentiableModel model = w.model("zero");
    try (TrainingData data = TrainingData.prepare(randomRows(spark, 8L * w.batch(), model.numFeatures(),
        model.numClasses(), options.partitions(), options.seed()), "features", "label", null)) {
      for (String engine : options.engines()) {
        try {
          fit(data, model, model.initialParameters(0), engine, w.batch(), 3, options.seed());
        } catch (RuntimeException e) {
          System.err.println("warm-up with " + engine + " failed: " + firstLine(e));
        }
      }
    }
  }

  /** Epochs for {@code totalSteps} full-batch steps with at most {@link #MAX_VALUES_PER_EPOCH} feature values. */
  static int epochsFor(int totalSteps, int batch, int features) {
    long maxStepsPerEpoch = Math.max(1, MAX_VALUES_PER_EPOCH / ((long) batch * features));
    return (int) ((totalSteps + maxStepsPerEpoch - 1) / maxStepsPerEpoch);
  }

  private record Fit(TrainingResult result, StepClock clock) {
  }

  private static Fit fit(TrainingData data, DifferentiableModel model, double[] initial, String engine, int batch,
      int epochs, long seed) {
    OptimizerConfig config = OptimizerConfig.builder(Method.SGD, model.layout()).learningRate(LEARNING_RATE).build();
    StepClock clock = new StepClock();
    TrainingPlan plan = TrainingPlan.builder()
        .numEpochs(epochs)
        .batchSize(batch)
        .seed(seed)
        .stepEngine(engine)
        .listeners(List.of(clock))
        .build();
    return new Fit(EfcpTrainer.train(data, model, initial, config, plan, null), clock);
  }

  /** The driver's clock at the end of every step (listeners run on the driver, after the step). */
  private static final class StepClock implements TrainingListener {
    private long[] ends = new long[64];
    private int count;

    @Override
    public void onStep(StepRecord record) {
      if (count == ends.length) {
        ends = Arrays.copyOf(ends, 2 * count);
      }
      ends[count++] = System.nanoTime();
    }

    long endNanos(int step) {
      if (step >= count) {
        throw new IllegalStateException("step " + step + " did not run (" + count + " steps)");
      }
      return ends[step];
    }
  }

  /**
   * {@code rows} rows of N(0, 1) features and uniform labels in [0, classes), generated on the executors in
   * {@code partitions} partitions (seeded per partition).
   */
  static Dataset<Row> randomRows(SparkSession spark, long rows, int features, int classes, int partitions,
      long seed) {
    List<Integer> ids = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      ids.add(p);
    }
    JavaRDD<Row> rdd = JavaSparkContext.fromSparkContext(spark.sparkContext()).parallelize(ids, partitions)
        .mapPartitions(it -> {
          List<Row> out = new ArrayList<>();
          while (it.hasNext()) {
            int p = it.next();
            long n = rows / partitions + (p < rows % partitions ? 1 : 0);
            Random random = new Random(seed * 1_000_003L + p);
            for (long i = 0; i < n; i++) {
              double[] x = new double[features];
              for (int j = 0; j < features; j++) {
                x[j] = random.nextGaussian();
              }
              out.add(RowFactory.create(Vectors.dense(x), (double) random.nextInt(classes)));
            }
          }
          return out.iterator();
        });
    StructType schema = new StructType(new StructField[] {
        new StructField("features", new VectorUDT(), false, Metadata.empty()),
        new StructField("label", DataTypes.DoubleType, false, Metadata.empty())});
    return spark.createDataFrame(rdd, schema);
  }

  /** The Markdown report: when, where, with which BLAS, then the table. */
  static String report(Options options, String[] args, String started, double loadBefore, double loadAfter,
      StepEngineTable table, List<String> errors) {
    StringBuilder sb = new StringBuilder("## Step engines: per-step cost, jobs vs stream\n\n");
    sb.append("- started (UTC): ").append(started).append('\n');
    sb.append("- machine: ").append(Runtime.getRuntime().availableProcessors()).append(" cores, Java ")
        .append(System.getProperty("java.version")).append(", driver heap ")
        .append(Runtime.getRuntime().maxMemory() >> 20).append(" MB\n");
    sb.append("- BLAS: ").append(blasName()).append('\n');
    sb.append(String.format(Locale.ROOT, "- load average (1 min): %.2f at start, %.2f at end%n", loadBefore,
        loadAfter));
    sb.append("- arguments: ").append(args.length == 0 ? "(defaults)" : String.join(" ", args)).append('\n');
    sb.append(String.format(Locale.ROOT, "- per fit: %d warm-up steps, then %d measured steps (%d for the real MLP);"
        + " %d fits per engine in alternating order, measured steps pooled; %d partitions; optimizer sgd%n",
        options.warmup(), options.steps(), options.slowSteps(), options.rounds(), options.partitions()));
    sb.append("- times in ms: medians over the pooled steps, except step wall (mean of the driver's wall time per"
        + " step); transport = broadcastMillis + aggregateMillis of a step; ratios are jobs / stream\n\n");
    sb.append(table.markdown());
    for (String e : errors) {
      sb.append("\nerror: ").append(e).append('\n');
    }
    return sb.toString();
  }

  /** An RFC 4180 CSV field: quoted when it holds a comma, quote or line break. */
  static String csvField(String s) {
    if (s.contains(",") || s.contains("\"") || s.contains("\n")) {
      return '"' + s.replace("\"", "\"\"") + '"';
    }
    return s;
  }

  static String blasName() {
    return dev.ludovic.netlib.blas.BLAS.getInstance().getClass().getName();
  }

  private static double loadAverage() {
    return ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
  }

  private static String firstLine(Throwable e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return e.getClass().getSimpleName() + ": " + (nl < 0 ? m : m.substring(0, nl));
  }
}
