package org.efcp.examples;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.classification.EFCPLogisticRegression;
import org.efcp.ml.classification.EFCPLogisticRegressionModel;

/**
 * The CLIP-shaped linear-probe benchmark (baselines.md §3b): one {@code local[*]} session generates
 * {@link SyntheticClipFeatures} train/test splits, caches them, fits MLlib's {@code LogisticRegression}
 * (defaults, regParam 0) with {@code --max-iter}, then fits {@link EFCPLogisticRegression} with each number of
 * epochs in {@code --efcp-epochs} until one reaches the goal: MLlib's final test accuracy (or {@code --target}).
 * The time-to-accuracy ratio is EFCP's fit time over MLlib's. For every EFCP fit it prints where a step's time
 * went (broadcast, gradient job = slowest task + Spark overhead, driver optimizer). {@code --mllib-iters 5,10}
 * refits MLlib from scratch with those caps (L-BFGS is deterministic, so a refit repeats the long fit's first
 * iterations): MLlib cannot report test accuracy per iteration.
 *
 * <p>Arguments (defaults): {@code --train 100000 --test 20000 --dim 768 --rank 64 --classes 1000 --noise 1.5
 * --partitions 2 --max-iter 100 --mllib-iters "" --mllib on --target 0 --efcp-epochs 1,2,3,5,10
 * --efcp-optimizer sparse-mfac --efcp-batch 0 --efcp-window 0 --efcp-density 0 --efcp-step 0 --efcp-damping 0}
 * (0 keeps the estimator's default; {@code --mllib off} needs {@code --target}). Bad arguments print one error
 * line and exit 2.
 *
 * <p>Output on stdout: one JSON object per fit on its own line (fields method, train_rows, test_rows, max_iter —
 * the epochs for EFCP —, iterations, fit_seconds, test_accuracy, final_loss; select them with {@code grep '^{'}),
 * then a human summary. Give the JVM Spark's flags ({@code spark.jvm.flags} in the parent pom) and enough heap:
 * the cached 100k×768 split alone is ≈ 0.6 GB.
 */
public final class ClipProbeBenchmark {

  private ClipProbeBenchmark() {
  }

  public static void main(String[] args) {
    Map<String, String> defaults = new LinkedHashMap<>();
    defaults.put("--train", "100000");
    defaults.put("--test", "20000");
    defaults.put("--dim", "768");
    defaults.put("--rank", "64");
    defaults.put("--classes", "1000");
    defaults.put("--noise", "1.5");
    defaults.put("--partitions", "2");
    defaults.put("--max-iter", "100");
    defaults.put("--mllib-iters", "");
    defaults.put("--mllib", "on");
    defaults.put("--target", "0");
    defaults.put("--efcp-epochs", "1,2,3,5,10");
    defaults.put("--efcp-optimizer", "sparse-mfac");
    defaults.put("--efcp-batch", "0");
    defaults.put("--efcp-window", "0");
    defaults.put("--efcp-density", "0");
    defaults.put("--efcp-step", "0");
    defaults.put("--efcp-damping", "0");
    long trainRows;
    long testRows;
    int partitions;
    int maxIter;
    List<Integer> refitIters;
    SyntheticClipFeatures.Options opts;
    EfcpSettings efcp;
    boolean mllib;
    double target;
    try {
      CommandLine cl = CommandLine.parse(args, defaults);
      trainRows = cl.positiveLong("--train");
      testRows = cl.positiveLong("--test");
      partitions = cl.positiveInt("--partitions");
      maxIter = cl.positiveInt("--max-iter");
      refitIters = cl.positiveIntList("--mllib-iters");
      opts = new SyntheticClipFeatures.Options()
          .withDim(cl.positiveInt("--dim"))
          .withRank(cl.positiveInt("--rank"))
          .withNumClasses(cl.positiveInt("--classes"))
          .withNoise(cl.nonNegativeDouble("--noise"));
      opts.check();
      mllib = !cl.string("--mllib").equals("off");
      target = cl.nonNegativeDouble("--target");
      if (!mllib && target == 0) {
        throw new IllegalArgumentException("--target: give the accuracy to reach when --mllib is off");
      }
      efcp = new EfcpSettings(cl.string("--efcp-optimizer"), cl.positiveIntList("--efcp-epochs"),
          (int) cl.nonNegativeDouble("--efcp-batch"), (int) cl.nonNegativeDouble("--efcp-window"),
          cl.nonNegativeDouble("--efcp-density"), cl.nonNegativeDouble("--efcp-step"),
          cl.nonNegativeDouble("--efcp-damping"));
    } catch (IllegalArgumentException e) {
      System.err.println("ClipProbeBenchmark: " + e.getMessage());
      System.exit(2);
      return;
    }
    SparkSession spark = LoopbackSession.start("ClipProbeBenchmark", partitions);
    try {
      run(spark, trainRows, testRows, partitions, opts, maxIter, refitIters, mllib, target, efcp);
    } finally {
      spark.stop();
    }
  }

  private static void run(SparkSession spark, long trainRows, long testRows, int partitions,
      SyntheticClipFeatures.Options opts, int maxIter, List<Integer> refitIters, boolean mllib, double target,
      EfcpSettings efcp) {
    long t0 = System.nanoTime();
    Dataset<Row> train = SyntheticClipFeatures
        .generate(spark, trainRows, partitions, SyntheticClipFeatures.TRAIN_SEED, opts).cache();
    Dataset<Row> test = SyntheticClipFeatures
        .generate(spark, testRows, partitions, SyntheticClipFeatures.TEST_SEED, opts).cache();
    long nTrain = train.count();
    long nTest = test.count();
    double prepSeconds = seconds(t0);

    List<FitReport> fits = new ArrayList<>();
    if (mllib) {
      fits.add(emit(runMllib(train, test, maxIter), nTrain, nTest));
      for (int k : refitIters) {
        fits.add(emit(runMllib(train, test, k), nTrain, nTest));
      }
    }
    // The goal: MLlib's final test accuracy (its maxIter fit), unless --target overrides it.
    double goal = target > 0 ? target : fits.get(0).testAccuracy();
    FitReport mllibFinal = mllib ? fits.get(0) : null;
    FitReport reached = null;
    EfcpStepTimes times = new EfcpStepTimes();
    spark.sparkContext().addSparkListener(times);
    for (int epochs : efcp.epochs()) {
      times.reset();
      EFCPLogisticRegression estimator = efcp.estimator(epochs);
      long t1 = System.nanoTime();
      EFCPLogisticRegressionModel model = estimator.fit(train);
      double fitSeconds = seconds(t1);
      double[] history = model.summary().objectiveHistory();
      FitReport fit = emit(new FitReport("efcp-" + estimator.getOptimizer(), epochs,
          (int) model.summary().totalIterations(), fitSeconds, accuracy(model.transform(test)),
          history[history.length - 1]), nTrain, nTest);
      fits.add(fit);
      System.out.printf(Locale.ROOT, "  %s: %s; batch %d, window %d, density %.3g, stepSize %.3g, damping %.3g,"
          + " optimizer state %d bytes, objective %s%n", fit.method(), times.describe(model.summary().steps()),
          estimator.getBatchSize(), estimator.getGradientWindow(), estimator.getDensity(), estimator.getStepSize(),
          estimator.getDamping(), model.summary().optimizerMemoryBytes(),
          java.util.Arrays.toString(history));
      if (fit.testAccuracy() >= goal) {
        reached = fit;
        break;
      }
    }
    spark.sparkContext().removeSparkListener(times);
    System.out.println();
    System.out.printf(Locale.ROOT, "ClipProbeBenchmark: %d train / %d test rows, %s, %d partitions;"
        + " generated and cached in %.1f s%n", nTrain, nTest, opts, partitions, prepSeconds);
    System.out.printf(Locale.ROOT, "%-10s %8s %10s %9s %9s %11s%n",
        "method", "max_iter", "iterations", "fit s", "test acc", "final loss");
    for (FitReport f : fits) {
      System.out.printf(Locale.ROOT, "%-10s %8d %10d %9.1f %9.4f %11.4g%n",
          f.method(), f.maxIter(), f.iterations(), f.fitSeconds(), f.testAccuracy(), f.finalLoss());
    }
    System.out.printf(Locale.ROOT, "goal: test accuracy %.4f%s%n", goal,
        target > 0 ? " (--target)" : " (MLlib's final, maxIter " + maxIter + ")");
    if (reached == null) {
      System.out.println("EFCP did not reach the goal with epochs " + efcp.epochs());
    } else if (mllibFinal != null) {
      System.out.printf(Locale.ROOT, "EFCP reached it in %.1f s (%d epochs) vs MLlib %.1f s: ratio %.3f%n",
          reached.fitSeconds(), reached.maxIter(), mllibFinal.fitSeconds(),
          reached.fitSeconds() / mllibFinal.fitSeconds());
    } else {
      System.out.printf(Locale.ROOT, "EFCP reached it in %.1f s (%d epochs)%n", reached.fitSeconds(),
          reached.maxIter());
    }
  }

  /** The EFCP estimator's settings on the command line; 0 keeps the estimator's default. */
  private record EfcpSettings(String optimizer, List<Integer> epochs, int batch, int window, double density,
      double stepSize, double damping) {
    EFCPLogisticRegression estimator(int numEpochs) {
      EFCPLogisticRegression e = new EFCPLogisticRegression().setOptimizer(optimizer).setNumEpochs(numEpochs);
      if (batch > 0) {
        e.setBatchSize(batch);
      }
      if (window > 0) {
        e.setGradientWindow(window);
      }
      if (density > 0) {
        e.setDensity(density);
      }
      if (stepSize > 0) {
        e.setStepSize(stepSize);
      }
      if (damping > 0) {
        e.setDamping(damping);
      }
      return e;
    }
  }

  /**
   * Fits MLlib's multinomial {@code LogisticRegression} (defaults except maxIter) on the cached training split and
   * scores the test split.
   */
  private static FitReport runMllib(Dataset<Row> train, Dataset<Row> test, int maxIter) {
    LogisticRegression lr = new LogisticRegression().setMaxIter(maxIter);
    long t0 = System.nanoTime();
    LogisticRegressionModel model = lr.fit(train);
    double fitSeconds = seconds(t0);
    double[] history = model.summary().objectiveHistory();
    double finalLoss = history.length == 0 ? Double.NaN : history[history.length - 1];
    return new FitReport("mllib-lr", maxIter, model.summary().totalIterations(), fitSeconds,
        accuracy(model.transform(test)), finalLoss);
  }

  /** Fraction of rows whose {@code prediction} equals their {@code label}. */
  private static double accuracy(Dataset<Row> predictions) {
    return new MulticlassClassificationEvaluator().setMetricName("accuracy").evaluate(predictions);
  }

  private static FitReport emit(FitReport fit, long trainRows, long testRows) {
    System.out.println(fit.toJson(trainRows, testRows));
    System.out.flush();
    return fit;
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }
}
