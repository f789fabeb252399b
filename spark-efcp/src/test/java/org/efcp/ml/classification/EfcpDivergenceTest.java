package org.efcp.ml.classification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.SparkJobRecorder;
import org.efcp.ml.TestData;
import org.efcp.ml.train.StepRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A fit whose loss or weights stop being finite throws an {@link IllegalStateException} that names the step and
 * the last finite loss, returns no model, stops training at that step and leaves no cached RDD behind.
 */
class EfcpDivergenceTest {
  private static final int ROWS = 600;
  private static final int BATCH = 200;

  private static SparkSession spark;
  private static JavaSparkContext jsc;
  /** 3 classes, 4 features multiplied by 1000, 2 partitions: plain SGD with a huge step blows up. */
  private static Dataset<Row> largeFeatures;
  private static List<Row> rows;

  @BeforeAll
  static void startSpark() {
    spark = TestData.session("local[2]", "EfcpDivergenceTest");
    jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    rows = new ArrayList<>();
    for (Row r : GaussianClasses.rows(ROWS, 4, 3, 3.0, 5)) {
      double[] x = ((Vector) r.get(0)).toArray();
      for (int j = 0; j < x.length; j++) {
        x[j] *= 1e3;
      }
      rows.add(GaussianClasses.row(x, r.getDouble(1), 1.0));
    }
    largeFeatures = GaussianClasses.frame(spark, rows, 2);
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  /** What a diverging fit left: its exception, the listener's records, and the training jobs it started. */
  private record Failure(IllegalStateException error, List<StepRecord> records, List<String> trainingJobs) {}

  private static Failure failingFit(EfcpClassifier<?, ?> estimator) {
    List<StepRecord> records = new ArrayList<>();
    estimator.addListener(records::add);
    Set<Integer> cachedBefore = new HashSet<>(jsc.getPersistentRDDs().keySet());
    IllegalStateException e;
    List<String> jobs;
    try (SparkJobRecorder recorder = SparkJobRecorder.attach(spark.sparkContext())) {
      e = assertThrows(IllegalStateException.class, () -> estimator.fit(largeFeatures));
      jobs = recorder.descriptions().stream().filter(d -> d.startsWith(SparkJobRecorder.TRAINING_PREFIX)).toList();
    }
    assertEquals(cachedBefore, new HashSet<>(jsc.getPersistentRDDs().keySet()), "cached RDDs left behind");
    assertNull(jsc.getLocalProperty("spark.job.description"), "job description restored");
    return new Failure(e, records, jobs);
  }

  @Test
  void perceptronWhoseLossOverflowsNamesTheStepAndTheLastFiniteLoss() {
    int epochs = 8;
    Failure f = failingFit(new EFCPMultilayerPerceptronClassifier().setLayers(new int[] {4, 8, 3}).setStepEngine("jobs")
        .setOptimizer("sgd").setStepSize(1e6).setLrSchedule("constant").setNumEpochs(epochs).setBatchSize(BATCH));
    int steps = f.records().size();
    assertTrue(steps >= 2 && steps < epochs * 3, "diverges after some finite steps, before the end: " + steps);
    for (StepRecord r : f.records()) {
      assertTrue(Double.isFinite(r.loss()), "listener saw only finite steps: " + r);
    }
    StepRecord last = f.records().get(steps - 1);
    String message = f.error().getMessage();
    assertTrue(message.contains("step " + steps + " "), message);
    assertTrue(message.contains("epoch " + (steps / 3 + 1) + ")"), message);
    assertTrue(message.contains(String.format(Locale.ROOT, "last finite loss %.6g at step %d", last.loss(),
        steps - 1)), message);
    assertEquals(steps + 1, f.trainingJobs().size(), "no training job after the diverging step: " + f.trainingJobs());
    assertEquals(String.format(Locale.ROOT, "EFCP epoch %d/%d step %d/3", steps / 3 + 1, epochs, steps % 3 + 1),
        f.trainingJobs().get(steps));
  }

  @Test
  void logisticRegressionWhoseFirstUpdateOverflowsNamesStepZeroAndTheInitialLoss() {
    Failure f = failingFit(new EFCPLogisticRegression().setStandardization(false).setOptimizer("sgd")
        .setStepEngine("jobs").setStepSize(1e308).setLrSchedule("constant").setNumEpochs(2).setBatchSize(ROWS));
    // Full batch, zero coefficients and intercepts at the log priors: the first loss is the label entropy.
    double[] counts = new double[3];
    for (Row r : rows) {
      counts[(int) r.getDouble(1)]++;
    }
    double entropy = 0;
    for (double c : counts) {
      entropy -= c / ROWS * Math.log(c / ROWS);
    }
    String message = f.error().getMessage();
    assertEquals(List.of(), f.records(), "no step completed");
    assertTrue(message.contains("step 0 "), message);
    assertTrue(message.contains(String.format(Locale.ROOT, "last finite loss %.6g at step 0", entropy)), message);
    assertEquals(List.of("EFCP epoch 1/2 step 1/1"), f.trainingJobs());
  }
}
