package org.efcp.ml.classification;

import org.efcp.ml.CapturedLog;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.SparkJobRecorder;
import org.efcp.ml.TestData;
import org.efcp.ml.train.EfcpTrainer;
import org.efcp.ml.train.StepRecord;
import org.efcp.ml.train.TrainingListener;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The training summary, the listeners, the Spark job descriptions and the progress log of a fit report what
 * the fit did: one objective per epoch, one record per step covering every row once per epoch, the cosine
 * learning rate, metrics every metricsInterval steps, and classification metrics equal to Spark's evaluators.
 */
class EfcpTrainingSummaryTest {
  private static final int ROWS = 1000;
  private static final int BATCH = 300;
  private static final int STEPS_PER_EPOCH = 4; // ⌈1000 / 300⌉, the last batch has 100 rows
  private static final int EPOCHS = 3;
  private static final int METRICS_INTERVAL = 3;

  private static SparkSession spark;
  private static JavaSparkContext jsc;
  private static Dataset<Row> train;
  private static Dataset<Row> test;

  /** The main fit, observed by a listener, a job recorder and the trainer's log. */
  private static EFCPLogisticRegression estimator;
  private static EFCPLogisticRegressionModel model;
  private static final List<StepRecord> heardSteps = new ArrayList<>();
  private static final List<double[]> heardEpochs = new ArrayList<>();
  private static List<String> jobDescriptions;
  private static List<String> progressLines;

  @BeforeAll
  static void fit() {
    spark = TestData.session("local[2]", "EfcpTrainingSummaryTest");
    jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<Row> rows = GaussianClasses.rows(ROWS + 400, 6, 3, 1.5, 21);
    train = GaussianClasses.frame(spark, rows.subList(0, ROWS), 2);
    test = GaussianClasses.frame(spark, rows.subList(ROWS, rows.size()), 2);

    estimator = new EFCPLogisticRegression().setNumEpochs(EPOCHS).setBatchSize(BATCH).setTol(0).setStepEngine("jobs")
        .setGradientWindow(8).setMetricsInterval(METRICS_INTERVAL)
        .addListener(new TrainingListener() {
          @Override
          public void onStep(StepRecord record) {
            heardSteps.add(record);
          }

          @Override
          public void onEpochEnd(int epoch, double objective) {
            heardEpochs.add(new double[] {epoch, objective});
          }
        });
    try (SparkJobRecorder jobs = SparkJobRecorder.attach(spark.sparkContext());
        CapturedLog log = CapturedLog.of(EfcpTrainer.class)) {
      model = estimator.fit(train);
      jobDescriptions = jobs.descriptions();
      progressLines = log.messages();
    }
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  private static List<StepRecord> steps() {
    return model.summary().steps();
  }

  @Test
  void objectiveHistoryHasOneEntryPerEpochThatIsTheRowWeightedMeanOfItsStepLossesAndDecreases() {
    double[] history = model.summary().objectiveHistory();
    assertEquals(EPOCHS, history.length);
    for (int e = 0; e < EPOCHS; e++) {
      double loss = 0;
      double rows = 0;
      for (StepRecord r : steps()) {
        if (r.epoch() == e + 1) {
          loss += r.loss() * r.rows();
          rows += r.rows();
        }
      }
      assertEquals(loss / rows, history[e], 1e-12 * Math.abs(history[e]), "epoch " + (e + 1));
      if (e > 0) {
        assertTrue(history[e] < history[e - 1], "objective decreases: " + java.util.Arrays.toString(history));
      }
    }
  }

  @Test
  void stepsAreNumberedInOrderAndUseEveryRowOncePerEpoch() {
    List<StepRecord> steps = steps();
    assertEquals(STEPS_PER_EPOCH * EPOCHS, steps.size());
    assertEquals(steps.size(), model.summary().totalIterations());
    long[] rowsPerEpoch = new long[EPOCHS];
    for (int i = 0; i < steps.size(); i++) {
      StepRecord r = steps.get(i);
      assertEquals(i, r.step());
      assertEquals(i / STEPS_PER_EPOCH + 1, r.epoch());
      assertEquals(i % STEPS_PER_EPOCH, r.stepInEpoch());
      assertEquals(r.stepInEpoch() < STEPS_PER_EPOCH - 1 ? BATCH : ROWS - (STEPS_PER_EPOCH - 1) * BATCH, r.rows(),
          "rows of step " + i);
      assertTrue(Double.isFinite(r.loss()) && r.loss() > 0, "loss of step " + i + ": " + r.loss());
      rowsPerEpoch[r.epoch() - 1] += r.rows();
    }
    for (long rows : rowsPerEpoch) {
      assertEquals(ROWS, rows);
    }
  }

  @Test
  void learningRateFollowsTheCosineScheduleOverAllSteps() {
    double eta0 = estimator.getStepSize();
    double total = STEPS_PER_EPOCH * EPOCHS;
    for (StepRecord r : steps()) {
      double expected = eta0 * 0.5 * (1 + Math.cos(Math.PI * r.step() / total));
      assertEquals(expected, r.learningRate(), 1e-15, "step " + r.step());
    }
  }

  @Test
  void metricsArePresentExactlyEveryMetricsIntervalSteps() {
    for (StepRecord r : steps()) {
      boolean due = r.step() % METRICS_INTERVAL == 0;
      assertEquals(due, r.hasMetrics(), "step " + r.step());
      if (due) {
        assertTrue(r.cosine() >= -1 && r.cosine() <= 1, "cos " + r.cosine());
        assertTrue(r.normRatio() > 0 && Double.isFinite(r.normRatio()), "‖u‖/‖g‖ " + r.normRatio());
        assertEquals(r.directionNorm() / r.gradientNorm(), r.normRatio(), 1e-9 * r.normRatio());
        assertTrue(0 <= r.ratioQ25() && r.ratioQ25() <= r.ratioQ50() && r.ratioQ50() <= r.ratioQ75(),
            "quantiles " + r.ratioQ25() + " " + r.ratioQ50() + " " + r.ratioQ75());
      } else {
        assertTrue(Double.isNaN(r.normRatio()) && Double.isNaN(r.ratioQ50()), "no metrics at step " + r.step());
      }
    }
    assertEquals(steps().stream().filter(StepRecord::hasMetrics).toList(), model.summary().metricsSteps());
  }

  @Test
  void metricsIntervalZeroTurnsMetricsAndStepProgressLinesOffAndASmallerWindowTakesLessMemory() {
    EFCPLogisticRegressionModel other;
    List<String> lines;
    try (CapturedLog log = CapturedLog.of(EfcpTrainer.class)) {
      other = estimator.copy(new org.apache.spark.ml.param.ParamMap()).setMetricsInterval(0).setGradientWindow(2)
          .fit(train);
      lines = log.messages();
    }
    assertEquals(STEPS_PER_EPOCH * EPOCHS, other.summary().steps().size());
    assertTrue(other.summary().steps().stream().noneMatch(StepRecord::hasMetrics));
    assertEquals(List.of(), other.summary().metricsSteps());
    assertEquals(EPOCHS, lines.size(), "one progress line per epoch: " + lines);
    assertTrue(lines.stream().allMatch(l -> l.matches("EFCP epoch \\d/3 done: .*")), lines.toString());

    long small = other.summary().optimizerMemoryBytes();
    long large = model.summary().optimizerMemoryBytes();
    assertTrue(small > 0, "memory with window 2: " + small);
    assertTrue(large > small, "window 8 (" + large + " B) holds more than window 2 (" + small + " B)");
  }

  @Test
  void listenerHearsEveryStepRecordInOrderAndEveryEpochEnd() {
    assertEquals(steps(), heardSteps);
    double[] history = model.summary().objectiveHistory();
    assertEquals(EPOCHS, heardEpochs.size());
    for (int e = 0; e < EPOCHS; e++) {
      assertArrayEquals(new double[] {e + 1, history[e]}, heardEpochs.get(e), 0.0);
    }
  }

  @Test
  void everyStepRunsAsOneSparkJobNamedAfterItsEpochAndStep() {
    List<String> expected = new ArrayList<>();
    for (int e = 1; e <= EPOCHS; e++) {
      for (int s = 1; s <= STEPS_PER_EPOCH; s++) {
        expected.add(String.format(Locale.ROOT, "EFCP epoch %d/%d step %d/%d", e, EPOCHS, s, STEPS_PER_EPOCH));
      }
    }
    int first = jobDescriptions.indexOf(expected.get(0));
    assertTrue(first > 0, "the validating summarizer pass runs before training: " + jobDescriptions);
    assertTrue(jobDescriptions.subList(0, first).stream().noneMatch(d -> d.startsWith("EFCP epoch")));
    assertEquals(expected, jobDescriptions.subList(first, jobDescriptions.size()));
    assertNull(jsc.getLocalProperty("spark.job.description"), "the caller's job description is restored");
  }

  @Test
  void progressLinesReportLossEveryMetricsIntervalStepsAndTheObjectiveEveryEpoch() {
    List<String> expected = new ArrayList<>();
    double[] history = model.summary().objectiveHistory();
    for (StepRecord r : steps()) {
      if ((r.step() + 1) % METRICS_INTERVAL == 0) {
        expected.add(String.format(Locale.ROOT, "EFCP epoch %d/%d step %d/%d loss %.6g rows/s", r.epoch(), EPOCHS,
            r.stepInEpoch() + 1, STEPS_PER_EPOCH, r.loss()));
      }
      if (r.stepInEpoch() == STEPS_PER_EPOCH - 1) {
        expected.add(String.format(Locale.ROOT, "EFCP epoch %d/%d done: objective %.6g, %d steps", r.epoch(),
            EPOCHS, history[r.epoch() - 1], r.step() + 1));
      }
    }
    assertEquals(expected.size(), progressLines.size(), progressLines.toString());
    for (int i = 0; i < expected.size(); i++) {
      assertTrue(progressLines.get(i).startsWith(expected.get(i)),
          "line " + i + ": expected '" + expected.get(i) + "…', got '" + progressLines.get(i) + "'");
    }
  }

  @Test
  void summaryAccuracyEqualsTheEvaluatorsOnTheTrainingPredictions() {
    MulticlassClassificationEvaluator evaluator = new MulticlassClassificationEvaluator().setMetricName("accuracy");
    double accuracy = evaluator.evaluate(model.transform(train));
    assertTrue(accuracy > 0.8, "easy data is learned: " + accuracy);
    assertEquals(accuracy, model.summary().accuracy(), 1e-12);
    assertEquals(3, model.numClasses());
  }

  @Test
  void evaluateOnTestDataMatchesTheEvaluatorAndPerClassCounts() {
    EFCPClassificationSummary summary = model.evaluate(test);
    Dataset<Row> predicted = model.transform(test);
    assertEquals(new MulticlassClassificationEvaluator().setMetricName("accuracy").evaluate(predicted),
        summary.accuracy(), 1e-12);

    long[][] confusion = new long[3][3]; // [label][prediction]
    for (Row r : predicted.select("label", "prediction").collectAsList()) {
      confusion[(int) r.getDouble(0)][(int) r.getDouble(1)]++;
    }
    assertArrayEquals(new double[] {0, 1, 2}, summary.labels(), 0.0);
    double[] precision = summary.precisionByLabel();
    double[] recall = summary.recallByLabel();
    for (int c = 0; c < 3; c++) {
      long predictedC = confusion[0][c] + confusion[1][c] + confusion[2][c];
      long actualC = confusion[c][0] + confusion[c][1] + confusion[c][2];
      assertEquals(predictedC == 0 ? 0 : (double) confusion[c][c] / predictedC, precision[c], 1e-12, "class " + c);
      assertEquals(actualC == 0 ? 0 : (double) confusion[c][c] / actualC, recall[c], 1e-12, "class " + c);
    }
  }

  /** Full-batch SGD: every step sees the weighted mean gradient of all rows. */
  private static EFCPLogisticRegression fullBatchSgd() {
    return new EFCPLogisticRegression().setOptimizer("sgd").setStepSize(0.5).setNumEpochs(3)
        .setBatchSize(2 * ROWS).setTol(0).setMetricsInterval(0);
  }

  private static double[] parameters(EFCPLogisticRegressionModel m) {
    double[] c = m.coefficientMatrix().toArray();
    double[] b = m.interceptVector().toArray();
    double[] all = java.util.Arrays.copyOf(c, c.length + b.length);
    System.arraycopy(b, 0, all, c.length, b.length);
    return all;
  }

  @Test
  void doublingEveryWeightLeavesTheFullBatchModelUnchanged() {
    double[] unit = parameters(fullBatchSgd().setWeightCol("w").fit(train));
    double[] doubled = parameters(fullBatchSgd().setWeightCol("w").fit(train.withColumn("w", lit(2.0))));
    double[] unweighted = parameters(fullBatchSgd().fit(train));
    assertArrayEquals(unit, doubled, 0.0);
    assertArrayEquals(unit, unweighted, 0.0);
    // The weights are used: tripling class 0 moves the model.
    double[] skewed = parameters(fullBatchSgd().setWeightCol("w")
        .fit(train.withColumn("w", when(col("label").equalTo(0), 3.0).otherwise(1.0))));
    assertFalse(java.util.Arrays.equals(unit, skewed), "non-uniform weights must change the model");
  }
}
