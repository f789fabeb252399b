package org.efcp.examples;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.classification.EFCPClassificationSummary;
import org.efcp.ml.classification.EFCPLogisticRegression;
import org.efcp.ml.classification.EFCPLogisticRegressionModel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The linear-probing job for {@code spark-submit} (or {@code bin/linear-probing}): fits
 * {@link EFCPLogisticRegression} on a training split of features, scores a test split and writes the model, a
 * metrics file and plots. Input is Parquet ({@code --train}/{@code --test}), {@code .npy} feature/label pairs, or,
 * when none is given, {@link SyntheticClipFeatures} (768 dims, 1000 classes, noise 1.5; 20,000 training rows per
 * core of the cluster, at most 100,000, and an eighth as many test rows). Every estimator param is a flag
 * ({@code stepSize} is {@code --step-size}, see {@link EstimatorFlags}). This job's defaults differ from the
 * estimator's in two params: {@code numEpochs} {@value #DEFAULT_EPOCHS}, and {@code batchSize} scaled to the data
 * by {@link #defaultBatchSize(long)} (the tuned 8192 rows of BENCHMARKS.md from 131,072 training rows on).
 * {@code --help} lists all flags.
 *
 * <p>{@code --output DIR} (default {@value #DEFAULT_OUTPUT}, on the driver's file system) receives {@code model/}
 * (MLlib format: {@code EFCPLogisticRegressionModel.load}), {@code metrics.json}, {@code loss.png} and
 * {@code accuracy.png}, all or nothing (see {@link OutputDirectory}). The executors write the model's files, so on
 * a multi-host cluster DIR must be on a shared file system.
 *
 * <p>Bad arguments or input (unknown flag, bad value, missing path, mistyped column, wrong feature width) print
 * one line {@code LinearProbing: <flag or column>: <problem>} on stderr and exit with status 2, leaving the output
 * directory untouched. A successful run prints one summary line on stdout.
 */
public final class LinearProbing {

  static final int DEFAULT_EPOCHS = 2;
  /** Bounds of the scaled default batch size, rows. */
  static final int MIN_DEFAULT_BATCH = 1024;
  static final int MAX_DEFAULT_BATCH = 8192;
  /** Training rows scored for the training accuracy (a sample when there are more). */
  static final long TRAIN_ACCURACY_ROWS = 2000;
  static final String DEFAULT_OUTPUT = "target/linear-probing";
  /** Exit status for bad arguments or input. */
  static final int BAD_INPUT = 2;

  private static final Logger LOG = LoggerFactory.getLogger(LinearProbing.class);

  private LinearProbing() {
  }

  /** Parsed job options; estimator params are set on the estimator directly. */
  private record Settings(ProbeInput input, OutputDirectory output, int expectedDim, int partitions) {
  }

  public static void main(String[] args) throws IOException {
    long start = System.nanoTime();
    EFCPLogisticRegression estimator = new EFCPLogisticRegression().setNumEpochs(DEFAULT_EPOCHS);
    EstimatorFlags params = EstimatorFlags.of(estimator);
    if (Arrays.asList(args).contains("--help")) {
      System.out.print(usage(params));
      return;
    }
    Settings settings;
    try {
      settings = parse(args, params);
    } catch (IllegalArgumentException e) {
      exitBadInput(e.getMessage());
      return;
    }
    SparkSession spark = SparkSession.builder().appName("LinearProbing").getOrCreate();
    String summary = null;
    String error = null;
    try {
      summary = run(spark, estimator, settings, start);
    } catch (IllegalArgumentException e) {
      error = e.getMessage();
    } finally {
      spark.stop();
    }
    if (error != null) {
      exitBadInput(error);
    }
    System.out.println(summary);
  }

  /** The job's own flags with their defaults ("" = not given); estimator flags are added from the estimator. */
  static Map<String, String> jobFlags() {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("--train", "");
    d.put("--test", "");
    d.put("--train-features", "");
    d.put("--train-labels", "");
    d.put("--test-features", "");
    d.put("--test-labels", "");
    d.put("--synthetic-train", "");
    d.put("--synthetic-test", "");
    d.put("--synthetic-dim", "768");
    d.put("--synthetic-classes", "1000");
    d.put("--synthetic-noise", "1.5");
    d.put("--output", DEFAULT_OUTPUT);
    d.put("--expected-dim", "");
    d.put("--partitions", "");
    return d;
  }

  /** Parses the job flags and sets the estimator flags on the estimator, before any Spark work. */
  private static Settings parse(String[] args, EstimatorFlags params) {
    Map<String, String> known = jobFlags();
    for (String flag : params.names()) {
      known.put(flag, "");
    }
    CommandLine cl = CommandLine.parse(args, known);
    for (String flag : params.names()) {
      if (!cl.string(flag).isEmpty()) {
        params.set(flag, cl.string(flag));
      }
    }
    ProbeInput input = ProbeInput.fromFlags(cl);
    int expectedDim = cl.string("--expected-dim").isEmpty() ? 0 : cl.positiveInt("--expected-dim");
    int partitions = cl.string("--partitions").isEmpty() ? 0 : cl.positiveInt("--partitions");
    OutputDirectory output = OutputDirectory.check("--output", Path.of(cl.string("--output")));
    return new Settings(input, output, expectedDim, partitions);
  }

  private static String run(SparkSession spark, EFCPLogisticRegression estimator, Settings settings, long start)
      throws IOException {
    int partitions = settings.partitions() > 0 ? settings.partitions() : spark.sparkContext().defaultParallelism();
    long t0 = System.nanoTime();
    ProbeInput.Splits data = settings.input().load(spark, estimator.getFeaturesCol(), estimator.getLabelCol(),
        partitions, settings.expectedDim());
    double loadSeconds = seconds(t0);
    if (!estimator.isSet(estimator.batchSize())) {
      estimator.setBatchSize(defaultBatchSize(data.trainRows()));
    }
    LOG.info("{} training / {} test rows, {} features, {} partitions ({} input); fitting {},"
        + " batch {}, {} epochs", data.trainRows(), data.testRows(), data.numFeatures(), partitions,
        settings.input().source().name().toLowerCase(Locale.ROOT), estimator.getOptimizer(),
        estimator.getBatchSize(), estimator.getNumEpochs());

    long t1 = System.nanoTime();
    EFCPLogisticRegressionModel model = estimator.fit(data.train());
    double fitSeconds = seconds(t1);

    long t2 = System.nanoTime();
    EFCPClassificationSummary test = model.evaluate(data.test());
    double testAccuracy = test.accuracy();
    // Scoring costs a pass over the rows: a sample tells the training accuracy well enough (±1 % at 2,000 rows).
    double trainFraction = Math.min(1.0, (double) TRAIN_ACCURACY_ROWS / data.trainRows());
    Dataset<Row> trainSample = trainFraction < 1
        ? data.train().sample(false, trainFraction, estimator.getSeed()) : data.train();
    double trainAccuracy = model.evaluate(trainSample).accuracy();
    int numClasses = model.numClasses();
    ProbeReport report = new ProbeReport();
    ObjectNode sparkInfo = report.root().putObject("spark");
    sparkInfo.put("version", spark.version());
    sparkInfo.put("master", spark.sparkContext().master());
    sparkInfo.put("default_parallelism", spark.sparkContext().defaultParallelism());
    ObjectNode dataInfo = report.root().putObject("data");
    settings.input().describe(dataInfo);
    dataInfo.put("train_rows", data.trainRows());
    dataInfo.put("test_rows", data.testRows());
    dataInfo.put("num_features", data.numFeatures());
    dataInfo.put("num_classes", numClasses);
    dataInfo.put("partitions", partitions);
    report.root().put("estimator", estimator.getClass().getName());
    report.params(estimator);
    report.fit(model.summary());
    ObjectNode trainInfo = report.root().putObject("train");
    trainInfo.put("accuracy", trainAccuracy);
    trainInfo.put("sampled_fraction", trainFraction);
    report.test(test, numClasses);
    double evaluateSeconds = seconds(t2);

    long t3 = System.nanoTime();
    String subtitle = String.format(Locale.ROOT, "%s, batch %d, %d×%d, %d classes", estimator.getOptimizer(),
        estimator.getBatchSize(), data.trainRows(), data.numFeatures(), numClasses);
    OutputDirectory out = settings.output();
    try {
      Path dir = out.staging();
      model.write().save(dir.resolve("model").toUri().toString());
      ProbeReport.lossChart(model.summary(), subtitle, dir.resolve("loss.png"));
      ProbeReport.accuracyChart(test, trainAccuracy, numClasses, subtitle, dir.resolve("accuracy.png"));
      ObjectNode secs = report.root().putObject("seconds");
      secs.put("load", loadSeconds);
      secs.put("fit", fitSeconds);
      secs.put("evaluate", evaluateSeconds);
      secs.put("write", seconds(t3));
      secs.put("total", seconds(start));
      // Last: its presence marks a complete output (OutputDirectory.MARKER).
      report.writeJson(dir.resolve(OutputDirectory.MARKER));
      out.commit();
    } catch (IOException | RuntimeException e) {
      out.discard();
      throw e;
    }
    return String.format(Locale.ROOT, "LinearProbing: test accuracy %.4f on %d rows (%d classes, chance %.4f),"
            + " training accuracy %.4f; fit %.1f s (%d epochs, %d steps, %s, batch %d); total %.1f s; wrote %s",
        testAccuracy, data.testRows(), numClasses, 1.0 / numClasses, trainAccuracy, fitSeconds,
        model.summary().objectiveHistory().length, model.summary().totalIterations(), estimator.getOptimizer(),
        estimator.getBatchSize(), seconds(start), out.target());
  }

  /**
   * The batch size when {@code --batch-size} is not given: {@code trainRows}/16 rounded down to a power of two,
   * within [{@value #MIN_DEFAULT_BATCH}, {@value #MAX_DEFAULT_BATCH}], so that an epoch has about 16 steps or more
   * (small data) and large data get the tuned 8192.
   */
  static int defaultBatchSize(long trainRows) {
    long target = Math.max(1, trainRows / 16);
    long pow2 = Long.highestOneBit(target);
    return (int) Math.max(MIN_DEFAULT_BATCH, Math.min(MAX_DEFAULT_BATCH, pow2));
  }

  private static String usage(EstimatorFlags params) {
    return "Usage: bin/linear-probing [--master URL] [--conf K=V ...] [other spark-submit options] [job flags]\n"
        + "   or: spark-submit --class " + LinearProbing.class.getName() + " examples/target/efcp-examples.jar"
        + " [job flags]\n\n"
        + "Input (none given: synthetic CLIP-shaped data):\n"
        + "  --train PATH --test PATH   Parquet; features array<float>, array<double> or ML vector, integer or"
        + " double labels\n"
        + "  --train-features X.npy --train-labels y.npy --test-features X.npy --test-labels y.npy\n"
        + "                             2-D float32/float64 features, 1-D integer or float labels (read on the"
        + " driver)\n"
        + "  --synthetic-train N        training rows (default 20,000 per core, at most 100,000)\n"
        + "  --synthetic-test N         test rows (default an eighth of the training rows)\n"
        + "  --synthetic-dim D --synthetic-classes C --synthetic-noise X   (default 768, 1000, 1.5)\n"
        + "  --expected-dim D           refuse features of any other width\n"
        + "  --partitions P             partitions of each split (default: Spark's default parallelism)\n\n"
        + "Output:\n"
        + "  --output DIR               model/, metrics.json, loss.png, accuracy.png (default " + DEFAULT_OUTPUT
        + ");\n"
        + "                             an existing DIR is replaced only if empty or an earlier output\n\n"
        + "Estimator params (" + EFCPLogisticRegression.class.getSimpleName() + "):\n"
        + params.usage(Map.of(
            "--batch-size", "training rows / 16 as a power of two in [" + MIN_DEFAULT_BATCH + ", "
                + MAX_DEFAULT_BATCH + "]",
            "--num-epochs", Integer.toString(DEFAULT_EPOCHS)));
  }

  private static void exitBadInput(String message) {
    // One line, whatever the message: Spark's messages may span several.
    System.err.println("LinearProbing: " + String.valueOf(message).strip().replaceAll("\\s*\\R\\s*", " "));
    System.exit(BAD_INPUT);
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }
}
