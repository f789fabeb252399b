package org.efcp.examples;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.expr;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.spark.ml.Model;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.classification.MultilayerPerceptronClassificationModel;
import org.apache.spark.ml.classification.MultilayerPerceptronClassifier;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.functions;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.classification.EFCPLogisticRegression;
import org.efcp.ml.classification.EFCPLogisticRegressionModel;
import org.efcp.ml.classification.EFCPMultilayerPerceptronClassificationModel;
import org.efcp.ml.classification.EFCPMultilayerPerceptronClassifier;
import org.efcp.optim.Method;

/**
 * EFCP estimators against MLlib's {@code LogisticRegression} and {@code MultilayerPerceptronClassifier} on the
 * same cached data in one {@code local[*]} session: MNIST from the IDX files (default) or the CLIP-shaped
 * synthetic features of {@link SyntheticClipFeatures}. Every fit is timed (wall time of {@code fit()} only) and
 * scored the same way: test accuracy, and the mean cross-entropy of the fitted model over the training rows
 * computed from its {@code probability} column (p clipped below at 1e-15), so the losses of all methods are
 * comparable. Writes {@code comparison.md} and {@code comparison.csv} to {@code --output} and prints the Markdown.
 *
 * <p>Methods ({@code --methods}, comma-separated, in this order by default): {@code efcp-lr:OPT} for
 * {@link EFCPLogisticRegression} with optimizer OPT (sparse-mfac, dense-mfac, sgd, adagrad-ef, …),
 * {@code efcp-mlp:OPT} for {@link EFCPMultilayerPerceptronClassifier}, {@code mllib-lr} and {@code mllib-mlp}
 * (L-BFGS, blockSize 128, seed 1). The MLPs have the layers [features, {@code --hidden}…, classes] and relu
 * (EFCP) or sigmoid (MLlib, its only hidden activation). EFCP LR fits use the estimator's defaults, except the
 * batch size (1024 for MNIST, 8192 for clip, or {@code --lr-batch-size}) and the step size: per optimizer from
 * {@link #LR_STEP_SIZES} (tuned on MNIST) unless {@code --lr-step-size} sets one for all.
 * The EFCP MLP uses {@link MnistMlp}'s tuned defaults in a single fit (cosine schedule over all its steps).
 *
 * <p>Arguments (defaults): {@code --dataset mnist --data data/mnist --train 0 --test 0 (0 = all of MNIST;
 * 100000 / 20000 for clip) --classes 1000 --noise 1.5 (clip only) --partitions 2 --methods ALL --lr-epochs 5
 * --lr-batch-size 0 --lr-step-size 0 --mlp-epochs (MnistMlp's) --hidden 256 --mllib-lr-iter 100
 * --mllib-mlp-iter 100 --output target/baseline-comparison}. Bad arguments print one line
 * {@code BaselineComparison: ...} and exit 2.
 */
public final class BaselineComparison {

  /** Every method, in the default order. */
  static final List<String> ALL_METHODS = List.of("efcp-lr:sparse-mfac", "efcp-lr:dense-mfac", "efcp-lr:sgd",
      "efcp-lr:adagrad-ef", "efcp-mlp:sparse-mfac", "mllib-lr", "mllib-mlp");

  /**
   * EFCP LR step sizes per optimizer: of the sizes tried in 3-epoch fits on MNIST (batch 1024; 0.03, 0.1, 0.3 and
   * 3, and 1 for sgd) the one with the lowest training loss, chosen without looking at the test split. Other
   * optimizers keep the estimator's default.
   */
  static final Map<String, Double> LR_STEP_SIZES = Map.of("sparse-mfac", 0.03, "dense-mfac", 0.1, "sgd", 0.3,
      "adagrad-ef", 0.1);
  private static final double PROBABILITY_FLOOR = 1e-15;

  private BaselineComparison() {
  }

  /** The parsed command line. */
  record Settings(String dataset, Path data, long train, long test, int classes, double noise, int partitions,
      List<String> methods, int lrEpochs, int lrBatchSize, double lrStepSize, int mlpEpochs, int[] hidden,
      int mllibLrIter, int mllibMlpIter, Path output) {

    /** The EFCP logistic regression for {@code optimizer}. */
    EFCPLogisticRegression efcpLr(String optimizer) {
      int batch = lrBatchSize > 0 ? lrBatchSize : dataset.equals("clip") ? 8192 : 1024;
      EFCPLogisticRegression e = new EFCPLogisticRegression().setOptimizer(optimizer).setNumEpochs(lrEpochs)
          .setBatchSize(batch);
      Double step = lrStepSize > 0 ? Double.valueOf(lrStepSize) : LR_STEP_SIZES.get(optimizer);
      return step == null ? e : e.setStepSize(step);
    }

    /** The EFCP MLP for {@code optimizer}: MnistMlp's defaults, {@code --mlp-epochs}, layers of this data. */
    EFCPMultilayerPerceptronClassifier efcpMlp(String optimizer, int numFeatures, int numClasses) {
      EFCPMultilayerPerceptronClassifier e = MnistMlp.parse(new String[0]).estimator().copy(ParamMap.empty());
      return e.setOptimizer(optimizer).setNumEpochs(mlpEpochs).setLayers(layers(numFeatures, numClasses));
    }

    int[] layers(int numFeatures, int numClasses) {
      int[] sizes = new int[hidden.length + 2];
      sizes[0] = numFeatures;
      System.arraycopy(hidden, 0, sizes, 1, hidden.length);
      sizes[sizes.length - 1] = numClasses;
      return sizes;
    }
  }

  static Map<String, String> defaults() {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("--dataset", "mnist");
    d.put("--data", "data/mnist");
    d.put("--train", "0");
    d.put("--test", "0");
    d.put("--classes", "1000");
    d.put("--noise", "1.5");
    d.put("--partitions", "2");
    d.put("--methods", String.join(",", ALL_METHODS));
    d.put("--lr-epochs", "5");
    d.put("--lr-batch-size", "0");
    d.put("--lr-step-size", "0");
    d.put("--mlp-epochs", MnistMlp.defaults().get("--epochs"));
    d.put("--hidden", "256");
    d.put("--mllib-lr-iter", "100");
    d.put("--mllib-mlp-iter", "100");
    d.put("--output", "target/baseline-comparison");
    return d;
  }

  /**
   * Parses and checks the arguments (not the data).
   *
   * @throws IllegalArgumentException whose message starts with the offending option
   */
  static Settings parse(String[] args) {
    CommandLine cl = CommandLine.parse(args, defaults());
    String dataset = cl.string("--dataset");
    if (!dataset.equals("mnist") && !dataset.equals("clip")) {
      throw new IllegalArgumentException("--dataset: expected mnist or clip, got '" + dataset + "'");
    }
    long train = cl.nonNegativeLong("--train");
    long test = cl.nonNegativeLong("--test");
    if (dataset.equals("clip")) {
      train = train == 0 ? 100_000 : train;
      test = test == 0 ? 20_000 : test;
    }
    int classes = cl.positiveInt("--classes");
    if (classes < 2) {
      throw new IllegalArgumentException("--classes: expected at least 2, got " + classes);
    }
    double noise = cl.nonNegativeDouble("--noise");
    List<String> methods = new ArrayList<>();
    for (String m : cl.string("--methods").split(",", -1)) {
      String name = m.trim();
      if (!isMethod(name)) {
        throw new IllegalArgumentException("--methods: unknown method '" + name + "'; known: mllib-lr, mllib-mlp,"
            + " efcp-lr:OPT, efcp-mlp:OPT with OPT one of " + Arrays.stream(Method.values()).map(Method::cliName)
            .toList());
      }
      methods.add(name);
    }
    long lrBatch = cl.nonNegativeLong("--lr-batch-size");
    if (lrBatch > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("--lr-batch-size: " + lrBatch + " is too large");
    }
    int[] hidden = cl.positiveIntList("--hidden").stream().mapToInt(Integer::intValue).toArray();
    return new Settings(dataset, Path.of(cl.string("--data")), train, test, classes, noise,
        cl.positiveInt("--partitions"), methods, cl.positiveInt("--lr-epochs"), (int) lrBatch,
        cl.nonNegativeDouble("--lr-step-size"), cl.positiveInt("--mlp-epochs"), hidden,
        cl.positiveInt("--mllib-lr-iter"), cl.positiveInt("--mllib-mlp-iter"), Path.of(cl.string("--output")));
  }

  public static void main(String[] args) {
    Settings s;
    MnistSplits mnist;
    try {
      s = parse(args);
      mnist = s.dataset().equals("mnist") ? MnistSplits.load(s.data(), s.train(), s.test()) : null;
      createOutput(s.output());
    } catch (IllegalArgumentException e) {
      System.err.println("BaselineComparison: " + e.getMessage());
      System.exit(2);
      return;
    }
    SparkSession spark = LoopbackSession.start("BaselineComparison", s.partitions());
    try {
      ComparisonTable table = run(spark, s, mnist);
      table.write(s.output());
      System.out.println();
      System.out.print(table.markdown());
      System.out.println("BaselineComparison: wrote " + s.output().resolve("comparison.md") + " and "
          + s.output().resolve("comparison.csv"));
    } catch (IOException e) {
      throw new UncheckedIOException("--output: cannot write to " + s.output(), e);
    } finally {
      spark.stop();
    }
  }

  /** {@code mnist} is null for the synthetic data. */
  private static ComparisonTable run(SparkSession spark, Settings s, MnistSplits mnist) {
    long t0 = System.nanoTime();
    Dataset<Row> train;
    Dataset<Row> test;
    int numFeatures;
    int numClasses;
    String data;
    if (mnist != null) {
      train = mnist.train().toDataFrame(spark, s.partitions());
      test = mnist.test().toDataFrame(spark, s.partitions());
      numFeatures = mnist.train().numFeatures();
      numClasses = MnistIdx.NUM_CLASSES;
      data = "MNIST";
    } else {
      SyntheticClipFeatures.Options opts = new SyntheticClipFeatures.Options().withNumClasses(s.classes())
          .withNoise(s.noise());
      train = SyntheticClipFeatures.generate(spark, s.train(), s.partitions(), SyntheticClipFeatures.TRAIN_SEED,
          opts);
      test = SyntheticClipFeatures.generate(spark, s.test(), s.partitions(), SyntheticClipFeatures.TEST_SEED, opts);
      numFeatures = opts.dim();
      numClasses = opts.numClasses();
      data = "CLIP-shaped synthetic (" + opts + ")";
    }
    train = train.cache();
    test = test.cache();
    long nTrain = train.count();
    long nTest = test.count();
    System.out.printf(Locale.ROOT, "BaselineComparison: %s, %d train / %d test rows, %d partitions, cached in"
        + " %.1f s%n", data, nTrain, nTest, s.partitions(), seconds(t0));
    ComparisonTable table = new ComparisonTable();
    for (String method : s.methods()) {
      ComparisonTable.Row row = fit(method, s, train, test, numFeatures, numClasses);
      table.add(row);
      System.out.printf(Locale.ROOT, "%s %s: %d iterations, fit %.1f s, test accuracy %.4f,"
          + " training loss %.4f%n", row.method(), row.model(), row.iterations(), row.fitSeconds(),
          row.testAccuracy(), row.trainingLoss());
      System.out.flush();
    }
    train.unpersist();
    test.unpersist();
    return table;
  }

  private static ComparisonTable.Row fit(String method, Settings s, Dataset<Row> train, Dataset<Row> test,
      int numFeatures, int numClasses) {
    int[] layers = s.layers(numFeatures, numClasses);
    String mlpName = "MLP " + String.join("-", Arrays.stream(layers).mapToObj(Integer::toString).toList());
    long t0 = System.nanoTime();
    if (method.equals("mllib-lr")) {
      LogisticRegressionModel m = new LogisticRegression().setMaxIter(s.mllibLrIter()).fit(train);
      return row("mllib l-bfgs", "LR", 0, m.summary().totalIterations(), t0, m, train, test);
    } else if (method.equals("mllib-mlp")) {
      MultilayerPerceptronClassificationModel m = new MultilayerPerceptronClassifier().setLayers(layers)
          .setBlockSize(128).setSeed(1L).setMaxIter(s.mllibMlpIter()).fit(train);
      return row("mllib l-bfgs", mlpName + " sigmoid", 0, m.summary().totalIterations(), t0, m, train, test);
    }
    String optimizer = method.substring(method.indexOf(':') + 1);
    if (method.startsWith("efcp-lr:")) {
      EFCPLogisticRegressionModel m = s.efcpLr(optimizer).fit(train);
      return row("efcp " + optimizer, "LR", s.lrEpochs(), m.summary().totalIterations(), t0, m, train, test);
    }
    EFCPMultilayerPerceptronClassificationModel m = s.efcpMlp(optimizer, numFeatures, numClasses).fit(train);
    return row("efcp " + optimizer, mlpName + " relu", s.mlpEpochs(), m.summary().totalIterations(), t0, m, train,
        test);
  }

  private static ComparisonTable.Row row(String method, String model, int epochs, long iterations, long startNanos,
      Model<?> fitted, Dataset<Row> train, Dataset<Row> test) {
    double fitSeconds = seconds(startNanos);
    double accuracy = new MulticlassClassificationEvaluator().setMetricName("accuracy")
        .evaluate(fitted.transform(test));
    return new ComparisonTable.Row(method, model, epochs, iterations, fitSeconds, accuracy,
        crossEntropy(fitted.transform(train)));
  }

  /** Mean −ln p(label) over {@code predictions}, p from the probability column, clipped below at 1e-15. */
  static double crossEntropy(Dataset<Row> predictions) {
    Row r = predictions
        .select(col("label"), functions.vector_to_array(col("probability"), "float64").as("p"))
        .agg(avg(expr("-ln(greatest(element_at(p, cast(label as int) + 1), " + PROBABILITY_FLOOR + "))")))
        .head();
    return r.getDouble(0);
  }

  private static boolean isMethod(String name) {
    if (name.equals("mllib-lr") || name.equals("mllib-mlp")) {
      return true;
    }
    for (String prefix : new String[] {"efcp-lr:", "efcp-mlp:"}) {
      if (name.startsWith(prefix)) {
        String optimizer = name.substring(prefix.length());
        return Arrays.stream(Method.values()).anyMatch(m -> m.cliName().equals(optimizer));
      }
    }
    return false;
  }

  /**
   * Creates the output directory up front, so that a bad path fails before any training.
   *
   * @throws IllegalArgumentException starting with {@code --output} when it cannot be created
   */
  static void createOutput(Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new IllegalArgumentException("--output: cannot create " + dir + ": " + e, e);
    }
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }
}
