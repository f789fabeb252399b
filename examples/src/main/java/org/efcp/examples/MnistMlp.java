package org.efcp.examples;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Supplier;

import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.classification.EFCPMultilayerPerceptronClassificationModel;
import org.efcp.ml.classification.EFCPMultilayerPerceptronClassifier;
import org.efcp.ml.train.StepRecord;
import org.efcp.ml.train.TrainingListener;
import org.efcp.optim.LearningRateSchedule;

/**
 * Trains an MLP on MNIST (the IDX files that {@code bin/fetch-mnist} puts in {@code data/mnist}) with
 * {@link EFCPMultilayerPerceptronClassifier} and prints the test accuracy after every epoch.
 *
 * <p>The estimator reports no weights during a fit, so with {@code --eval epoch} (the default) every epoch is
 * its own one-epoch fit, warm-started from the previous epoch's weights ({@code setInitialWeights}), with a
 * constant learning rate inside the epoch: epoch e (from 1) runs at η₀ · schedule(e − 1) for the
 * {@code --lr-schedule} over E = {@code --epochs} "steps", and visits the rows in the order of seed + e. Each
 * fit starts its optimizer afresh: the M-FAC gradient window, the error-feedback buffer and the momentum buffer
 * do not carry over from one epoch to the next (the window refills within its first m steps). {@code --eval end}
 * instead runs one fit of E epochs (schedule over all its steps, optimizer state kept throughout), prints the
 * training objective after each epoch and the test accuracy once at the end.
 *
 * <p>Arguments (defaults): {@code --data data/mnist --layers 784,256,10 --activation relu --epochs 10
 * --batch-size 512 --optimizer sparse-mfac --step-size 0.007 --damping 1e-4 --density 0.1
 * --gradient-window 64 --momentum 0 --weight-decay 0 --lr-schedule cosine --eval epoch --partitions 2
 * --seed 1}. Bad arguments, or missing or damaged data, print one line {@code MnistMlp: ...} and exit 2.
 *
 * <p>Output on stdout: one line per epoch (learning rate, mean training loss over the epoch's mini-batches,
 * test accuracy, seconds), then the final accuracy and the wall and CPU time of the whole run (data loading,
 * Spark start and evaluation included).
 */
public final class MnistMlp {

  private MnistMlp() {
  }

  /** The parsed command line: the estimator with every training param set, and what the loop needs. */
  record Settings(Path data, EFCPMultilayerPerceptronClassifier estimator, int epochs, String lrSchedule,
      boolean evalEveryEpoch, int partitions, long seed) {

    /** The one-epoch fit of epoch {@code e} (from 1) of {@code --eval epoch}, starting from {@code weights}. */
    EFCPMultilayerPerceptronClassifier epochFit(int e, Vector weights) {
      double factor = LearningRateSchedule.parse(lrSchedule, epochs).factor(e - 1L);
      EFCPMultilayerPerceptronClassifier fit = estimator.copy(ParamMap.empty())
          .setNumEpochs(1).setLrSchedule("constant").setStepSize(estimator.getStepSize() * factor)
          .setSeed(seed + e);
      return weights == null ? fit : fit.setInitialWeights(weights);
    }
  }

  static Map<String, String> defaults() {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("--data", "data/mnist");
    d.put("--layers", "784,256,10");
    d.put("--activation", "relu");
    d.put("--epochs", "10");
    d.put("--batch-size", "512");
    d.put("--optimizer", "sparse-mfac");
    d.put("--step-size", "0.007");
    d.put("--damping", "1e-4");
    d.put("--density", "0.1");
    d.put("--gradient-window", "64");
    d.put("--momentum", "0");
    d.put("--weight-decay", "0");
    d.put("--lr-schedule", "cosine");
    d.put("--eval", "epoch");
    d.put("--partitions", "2");
    d.put("--seed", "1");
    return d;
  }

  /**
   * Parses and checks the arguments (not the data).
   *
   * @throws IllegalArgumentException whose message starts with the offending option
   */
  static Settings parse(String[] args) {
    CommandLine cl = CommandLine.parse(args, defaults());
    EFCPMultilayerPerceptronClassifier est = new EFCPMultilayerPerceptronClassifier();
    List<Integer> layers = cl.positiveIntList("--layers");
    int epochs = cl.positiveInt("--epochs");
    String schedule = cl.string("--lr-schedule");
    String eval = cl.string("--eval");
    if (!eval.equals("epoch") && !eval.equals("end")) {
      throw new IllegalArgumentException("--eval: expected epoch or end, got '" + eval + "'");
    }
    long seed;
    try {
      seed = Long.parseLong(cl.string("--seed"));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--seed: expected an integer, got '" + cl.string("--seed") + "'");
    }
    as("--layers", () -> est.setLayers(layers.stream().mapToInt(Integer::intValue).toArray()));
    as("--activation", () -> est.setActivation(cl.string("--activation")));
    as("--optimizer", () -> est.setOptimizer(cl.string("--optimizer")));
    as("--batch-size", () -> est.setBatchSize(cl.positiveInt("--batch-size")));
    as("--step-size", () -> est.setStepSize(cl.nonNegativeDouble("--step-size")));
    as("--damping", () -> est.setDamping(cl.nonNegativeDouble("--damping")));
    as("--density", () -> est.setDensity(cl.nonNegativeDouble("--density")));
    as("--gradient-window", () -> est.setGradientWindow(cl.positiveInt("--gradient-window")));
    as("--momentum", () -> est.setMomentum(cl.nonNegativeDouble("--momentum")));
    as("--weight-decay", () -> est.setWeightDecay(cl.nonNegativeDouble("--weight-decay")));
    as("--lr-schedule", () -> est.setLrSchedule(schedule));
    est.setNumEpochs(epochs).setSeed(seed);
    return new Settings(Path.of(cl.string("--data")), est, epochs, schedule, eval.equals("epoch"),
        cl.positiveInt("--partitions"), seed);
  }

  public static void main(String[] args) {
    long startNanos = System.nanoTime();
    Settings s;
    MnistIdx trainIdx;
    MnistIdx testIdx;
    try {
      s = parse(args);
      Path dir = s.data();
      trainIdx = as("--data", () -> MnistIdx.train(dir));
      testIdx = as("--data", () -> MnistIdx.test(dir));
      int[] layers = s.estimator().getLayers();
      if (layers[0] != trainIdx.numFeatures() || testIdx.numFeatures() != trainIdx.numFeatures()) {
        throw new IllegalArgumentException("--layers: the input layer has " + layers[0] + " units but the images"
            + " have " + trainIdx.numFeatures() + " (train) and " + testIdx.numFeatures() + " (test) pixels");
      }
      if (layers[layers.length - 1] < MnistIdx.NUM_CLASSES) {
        throw new IllegalArgumentException("--layers: the output layer has " + layers[layers.length - 1]
            + " units but there are " + MnistIdx.NUM_CLASSES + " digits");
      }
    } catch (IllegalArgumentException e) {
      System.err.println("MnistMlp: " + e.getMessage());
      System.exit(2);
      return;
    }
    SparkSession spark = LoopbackSession.start("MnistMlp", s.partitions());
    try {
      run(spark, s, trainIdx, testIdx, startNanos);
    } finally {
      spark.stop();
    }
  }

  private static void run(SparkSession spark, Settings s, MnistIdx trainIdx, MnistIdx testIdx, long startNanos) {
    Dataset<Row> train = trainIdx.toDataFrame(spark, s.partitions()).cache();
    Dataset<Row> test = testIdx.toDataFrame(spark, s.partitions()).cache();
    long nTrain = train.count();
    long nTest = test.count();
    EFCPMultilayerPerceptronClassifier est = s.estimator();
    System.out.printf(Locale.ROOT, "MnistMlp: %d train / %d test rows in %d partitions, ready after %.1f s;"
        + " layers %s %s, %s, batch %d, stepSize %.3g, damping %.3g, density %.3g, window %d, momentum %.3g,"
        + " weightDecay %.3g, %s schedule over %d epochs, test accuracy %s%n",
        nTrain, nTest, s.partitions(), seconds(startNanos), Arrays.toString(est.getLayers()),
        est.getActivation(), est.getOptimizer(), est.getBatchSize(), est.getStepSize(), est.getDamping(),
        est.getDensity(), est.getGradientWindow(), est.getMomentum(), est.getWeightDecay(), s.lrSchedule(),
        s.epochs(), s.evalEveryEpoch() ? "after every epoch (warm-started one-epoch fits)" : "at the end (one fit)");
    double accuracy = s.evalEveryEpoch() ? epochByEpoch(s, train, test, startNanos)
        : oneFit(s, train, test, startNanos);
    System.out.printf(Locale.ROOT, "MnistMlp: final test accuracy %.4f; wall %.1f s, process CPU %.1f s%n",
        accuracy, seconds(startNanos), processCpuSeconds());
    train.unpersist();
    test.unpersist();
  }

  /** {@code --eval epoch}: one warm-started fit per epoch, test accuracy after each; returns the last. */
  private static double epochByEpoch(Settings s, Dataset<Row> train, Dataset<Row> test, long startNanos) {
    Vector weights = null;
    double accuracy = Double.NaN;
    for (int e = 1; e <= s.epochs(); e++) {
      EFCPMultilayerPerceptronClassifier fit = s.epochFit(e, weights);
      long t0 = System.nanoTime();
      EFCPMultilayerPerceptronClassificationModel model = fit.fit(train);
      double fitSeconds = seconds(t0);
      weights = model.weights();
      accuracy = model.evaluate(test).accuracy();
      List<StepRecord> steps = model.summary().steps();
      System.out.printf(Locale.ROOT, "epoch %3d/%d  lr %.4g  train loss %.4f  test accuracy %.4f  fit %.1f s"
          + " (%d steps; per step: gradient job %.0f ms, optimizer %.0f ms)  elapsed %.1f s%n", e, s.epochs(),
          fit.getStepSize(), model.summary().objectiveHistory()[0], accuracy, fitSeconds, steps.size(),
          steps.stream().mapToDouble(StepRecord::aggregateMillis).average().orElse(Double.NaN),
          steps.stream().mapToDouble(StepRecord::optimizerMillis).average().orElse(Double.NaN), seconds(startNanos));
      System.out.flush();
    }
    return accuracy;
  }

  /** {@code --eval end}: one fit of all epochs; the objective per epoch live, the test accuracy once. */
  private static double oneFit(Settings s, Dataset<Row> train, Dataset<Row> test, long startNanos) {
    EFCPMultilayerPerceptronClassifier est = s.estimator().copy(ParamMap.empty());
    est.addListener(new TrainingListener() {
      @Override
      public void onStep(StepRecord record) {
      }

      @Override
      public void onEpochEnd(int epoch, double objective) {
        System.out.printf(Locale.ROOT, "epoch %3d/%d  train loss %.4f  elapsed %.1f s%n", epoch, s.epochs(),
            objective, seconds(startNanos));
        System.out.flush();
      }
    });
    EFCPMultilayerPerceptronClassificationModel model = est.fit(train);
    return model.evaluate(test).accuracy();
  }

  /** Returns {@code value.get()}, renaming its IllegalArgumentException to {@code option}. */
  private static <T> T as(String option, Supplier<T> value) {
    try {
      return value.get();
    } catch (IllegalArgumentException e) {
      String message = e.getMessage().startsWith(option + ":") ? e.getMessage() : option + ": " + e.getMessage();
      throw new IllegalArgumentException(message, e);
    }
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }

  /** CPU time of this JVM (all threads), or NaN where the platform does not report it. */
  private static double processCpuSeconds() {
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      long ns = os.getProcessCpuTime();
      return ns < 0 ? Double.NaN : ns / 1e9;
    }
    return Double.NaN;
  }
}
