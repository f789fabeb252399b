package org.efcp.ml.classification;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.attribute.NominalAttribute;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.efcp.cuda.CudaProbe;
import org.efcp.ml.SparkJobRecorder;
import org.efcp.ml.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Bad input makes {@code fit} throw one {@link IllegalArgumentException} whose message starts with the column or
 * param it concerns, before any training job (schema problems before any job at all), and leaves no cached RDD
 * behind; out-of-range params are refused by their setters.
 */
class EfcpInputValidationTest {
  private static final int ROWS = 600;
  private static final int FEATURES = 4;

  private static SparkSession spark;
  private static JavaSparkContext jsc;

  @BeforeAll
  static void startSpark() {
    spark = TestData.session("local[2]", "EfcpInputValidationTest");
    jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  /** Valid rows (3 classes, 2 partitions of 300) with {@code edit} applied to the row list. */
  private static Dataset<Row> data(Consumer<List<Row>> edit) {
    List<Row> rows = new ArrayList<>(GaussianClasses.rows(ROWS, FEATURES, 3, 3.0, 11));
    edit.accept(rows);
    return GaussianClasses.frame(spark, rows, 2);
  }

  private static Row withFeatures(Row r, double[] x) {
    return GaussianClasses.row(x, r.getDouble(1), r.getDouble(2));
  }

  private static Row withLabel(Row r, double label) {
    return GaussianClasses.row(((Vector) r.get(0)).toArray(), label, r.getDouble(2));
  }

  private static Row withWeight(Row r, double weight) {
    return GaussianClasses.row(((Vector) r.get(0)).toArray(), r.getDouble(1), weight);
  }

  private static double[] features(Row r) {
    return ((Vector) r.get(0)).toArray();
  }

  /**
   * Fits and expects one IllegalArgumentException starting with {@code prefix} and containing {@code detail},
   * no training job (no job at all when {@code noJobs}), and the same cached RDDs as before.
   */
  private static void assertRejected(EfcpClassifier<?, ?> estimator, Dataset<Row> df, String prefix,
      String detail, boolean noJobs) {
    Set<Integer> cachedBefore = new HashSet<>(jsc.getPersistentRDDs().keySet());
    List<String> jobs;
    IllegalArgumentException e;
    try (SparkJobRecorder recorder = SparkJobRecorder.attach(spark.sparkContext())) {
      e = assertThrows(IllegalArgumentException.class, () -> estimator.fit(df));
      jobs = recorder.descriptions();
    }
    assertEquals(IllegalArgumentException.class, e.getClass(), "exception type");
    assertTrue(e.getMessage().startsWith(prefix), "message should start with '" + prefix + "': " + e.getMessage());
    assertTrue(e.getMessage().contains(detail), "message should mention '" + detail + "': " + e.getMessage());
    assertEquals(0, jobs.stream().filter(d -> d.startsWith(SparkJobRecorder.TRAINING_PREFIX)).count(),
        "training jobs: " + jobs);
    if (noJobs) {
      assertEquals(List.of(), jobs, "jobs before the schema check");
    }
    assertEquals(cachedBefore, new HashSet<>(jsc.getPersistentRDDs().keySet()), "cached RDDs left behind");
  }

  private static void assertRejected(EfcpClassifier<?, ?> estimator, Dataset<Row> df, String prefix,
      String detail) {
    assertRejected(estimator, df, prefix, detail, false);
  }

  @Test
  void validDataWithLabelsBelowThreeTrainsThreeClassModelsWithoutLeavingCachedRdds() {
    Set<Integer> cachedBefore = new HashSet<>(jsc.getPersistentRDDs().keySet());
    try (SparkJobRecorder recorder = SparkJobRecorder.attach(spark.sparkContext())) {
      assertEquals(3, QuickFits.logisticRegression().fit(data(rows -> { })).numClasses());
      assertEquals(3, QuickFits.perceptron(FEATURES).fit(data(rows -> { })).numClasses());
      assertEquals(2 * 3, recorder.trainingJobs(), "one training job per step: ⌈600/200⌉ steps per fit");
    }
    assertEquals(cachedBefore, new HashSet<>(jsc.getPersistentRDDs().keySet()));
  }

  @Test
  void nanFeatureIsRejected() {
    Dataset<Row> df = data(rows -> {
      double[] x = features(rows.get(450));
      x[2] = Double.NaN;
      rows.set(450, withFeatures(rows.get(450), x));
    });
    assertRejected(QuickFits.logisticRegression(), df, "featuresCol 'features':", "NaN");
  }

  @Test
  void infiniteFeatureIsRejected() {
    Dataset<Row> df = data(rows -> {
      double[] x = features(rows.get(10));
      x[0] = Double.POSITIVE_INFINITY;
      rows.set(10, withFeatures(rows.get(10), x));
    });
    assertRejected(QuickFits.perceptron(FEATURES), df, "featuresCol 'features':", "Infinity");
  }

  @Test
  void vectorsOfDifferentSizesInOnePartitionAreRejected() {
    Dataset<Row> df = data(rows -> rows.set(5, withFeatures(rows.get(5), new double[FEATURES + 1])));
    assertRejected(QuickFits.logisticRegression(), df, "featuresCol 'features':", "different sizes");
  }

  @Test
  void vectorsOfDifferentSizesInDifferentPartitionsAreRejected() {
    Dataset<Row> df = data(rows -> {
      for (int i = ROWS / 2; i < ROWS; i++) {
        rows.set(i, withFeatures(rows.get(i), new double[FEATURES + 1]));
      }
    });
    assertRejected(QuickFits.logisticRegression(), df, "featuresCol 'features':", "different sizes");
  }

  @Test
  void nullFeaturesAreRejectedByRowAndPartition() {
    Dataset<Row> df = data(rows -> rows.set(450, RowFactory.create(null, 1.0, 1.0)));
    assertRejected(QuickFits.logisticRegression(), df, "featuresCol 'features':", "null in row 150 of partition 1");
  }

  @Test
  void nullLabelIsRejectedByRowAndPartition() {
    Dataset<Row> df = data(rows -> rows.set(7, RowFactory.create(rows.get(7).get(0), null, 1.0)));
    assertRejected(QuickFits.perceptron(FEATURES), df, "labelCol 'label':", "null in row 7 of partition 0");
  }

  @Test
  void nullWeightIsRejectedByRowAndPartition() {
    Dataset<Row> df = data(rows -> rows.set(301, RowFactory.create(rows.get(301).get(0), 2.0, null)));
    assertRejected(QuickFits.logisticRegression().setWeightCol("w"), df, "weightCol 'w':", "null in row 1 of partition 1");
  }

  @Test
  void negativeLabelIsRejected() {
    assertRejected(QuickFits.logisticRegression(), data(rows -> rows.set(7, withLabel(rows.get(7), -1))),
        "labelCol 'label':", "-1.0");
  }

  @Test
  void nonIntegerLabelIsRejected() {
    assertRejected(QuickFits.logisticRegression(), data(rows -> rows.set(400, withLabel(rows.get(400), 1.5))),
        "labelCol 'label':", "1.5");
  }

  @Test
  void nanLabelIsRejected() {
    assertRejected(QuickFits.perceptron(FEATURES), data(rows -> rows.set(0, withLabel(rows.get(0), Double.NaN))),
        "labelCol 'label':", "NaN");
  }

  @Test
  void labelAtOrAboveTheDeclaredNumberOfClassesIsRejected() {
    Dataset<Row> df = data(rows -> rows.set(300, withLabel(rows.get(300), 3)));
    Dataset<Row> declared = df.select(col("features"),
        col("label").as("label", NominalAttribute.defaultAttr().withName("label").withNumValues(3).toMetadata()),
        col("w"));
    assertRejected(QuickFits.logisticRegression(), declared, "labelCol 'label':", "3");
  }

  @Test
  void perceptronLabelAtOrAboveTheOutputSizeIsRejected() {
    assertRejected(QuickFits.perceptron(FEATURES), data(rows -> rows.set(599, withLabel(rows.get(599), 3))),
        "labelCol 'label':", "3");
  }

  @Test
  void negativeWeightIsRejected() {
    assertRejected(QuickFits.logisticRegression().setWeightCol("w"),
        data(rows -> rows.set(123, withWeight(rows.get(123), -0.5))), "weightCol 'w':", "-0.5");
  }

  @Test
  void nanWeightIsRejected() {
    assertRejected(QuickFits.perceptron(FEATURES).setWeightCol("w"),
        data(rows -> rows.set(500, withWeight(rows.get(500), Double.NaN))), "weightCol 'w':", "NaN");
  }

  @Test
  void allZeroWeightsAreRejected() {
    assertRejected(QuickFits.logisticRegression().setWeightCol("w"),
        data(rows -> rows.replaceAll(r -> withWeight(r, 0))), "weightCol 'w':", "0");
  }

  @Test
  void emptyDatasetIsRejected() {
    assertRejected(QuickFits.logisticRegression(), GaussianClasses.frame(spark, List.of(), 2), "dataset:", "no rows");
  }

  @Test
  void missingFeaturesColumnFailsBeforeAnyJob() {
    assertRejected(QuickFits.logisticRegression().setFeaturesCol("x"), data(rows -> { }), "featuresCol 'x':",
        "no such column", true);
  }

  @Test
  void missingLabelColumnFailsBeforeAnyJob() {
    assertRejected(QuickFits.perceptron(FEATURES).setLabelCol("y"), data(rows -> { }), "labelCol 'y':", "no such column", true);
  }

  @Test
  void missingWeightColumnFailsBeforeAnyJob() {
    assertRejected(QuickFits.logisticRegression().setWeightCol("weight"), data(rows -> { }), "weightCol 'weight':",
        "no such column", true);
  }

  @Test
  void featuresColumnThatIsNotAVectorFailsBeforeAnyJob() {
    Dataset<Row> df = data(rows -> { }).select(col("w").as("features"), col("label"));
    assertRejected(QuickFits.logisticRegression(), df, "featuresCol 'features':", "vector", true);
  }

  @Test
  void perceptronInputLayerThatDoesNotMatchTheFeaturesIsRejected() {
    assertRejected(QuickFits.perceptron(FEATURES).setLayers(new int[] {FEATURES + 1, 5, 3}), data(rows -> { }), "layers:",
        String.valueOf(FEATURES + 1));
  }

  @Test
  void perceptronInitialWeightsOfTheWrongLengthAreRejected() {
    int expected = (FEATURES * 5 + 5) + (5 * 3 + 3);
    assertRejected(QuickFits.perceptron(FEATURES).setInitialWeights(Vectors.dense(new double[expected - 1])), data(rows -> { }),
        "initialWeights:", String.valueOf(expected));
  }

  @Test
  void gpuWithAWindowTheGpuKernelsDoNotTakeFailsBeforeAnyJob() {
    assertRejected(QuickFits.perceptron(FEATURES).setOptimizer("dense-ggt").setGradientWindow(200).setDevice("gpu"), data(rows -> { }),
        "device: gpu cannot run DENSE_GGT: the GPU GGT eigen step takes m <= 128, got m = 200", "auto or cpu", true);
  }

  @Test
  void gpuOnADriverWithoutCudaFailsBeforeAnyJob() {
    assumeFalse(CudaProbe.availability().available(), "this machine has CUDA");
    assertRejected(QuickFits.logisticRegression().setOptimizer("sparse-mfac").setDevice("gpu"), data(rows -> { }),
        "device: gpu requested but CUDA is not available", "", true);
  }

  @Test
  void binomialFamilyWithThreeClassesIsRejected() {
    assertRejected(QuickFits.logisticRegression().setFamily("binomial"), data(rows -> { }), "family:", "3");
  }

  static Stream<Arguments> outOfRangeParams() {
    return Stream.of(
        Arguments.of("density", (Consumer<EFCPMultilayerPerceptronClassifier>) e -> e.setDensity(0)),
        Arguments.of("density", (Consumer<EFCPMultilayerPerceptronClassifier>) e -> e.setDensity(1.5)),
        Arguments.of("damping", (Consumer<EFCPMultilayerPerceptronClassifier>) e -> e.setDamping(0)),
        Arguments.of("damping", (Consumer<EFCPMultilayerPerceptronClassifier>) e -> e.setDamping(-1)),
        Arguments.of("gradientWindow", (Consumer<EFCPMultilayerPerceptronClassifier>) e -> e.setGradientWindow(0)),
        Arguments.of("stepSize", (Consumer<EFCPMultilayerPerceptronClassifier>) e -> e.setStepSize(0)),
        Arguments.of("numEpochs", (Consumer<EFCPMultilayerPerceptronClassifier>) e -> e.setNumEpochs(0)),
        Arguments.of("batchSize", (Consumer<EFCPMultilayerPerceptronClassifier>) e -> e.setBatchSize(0)),
        Arguments.of("momentum", (Consumer<EFCPMultilayerPerceptronClassifier>) e -> e.setMomentum(1)),
        Arguments.of("optimizer", (Consumer<EFCPMultilayerPerceptronClassifier>) e -> e.setOptimizer("foo")),
        Arguments.of("lrSchedule", (Consumer<EFCPMultilayerPerceptronClassifier>) e -> e.setLrSchedule("bar")),
        Arguments.of("device", (Consumer<EFCPMultilayerPerceptronClassifier>) e -> e.setDevice("tpu")),
        Arguments.of("activation", (Consumer<EFCPMultilayerPerceptronClassifier>) e -> e.setActivation("softplus")),
        Arguments.of("layers", (Consumer<EFCPMultilayerPerceptronClassifier>) e -> e.setLayers(new int[] {4})));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("outOfRangeParams")
  void outOfRangeParamIsRefusedBySetterAndNotStored(String param,
      Consumer<EFCPMultilayerPerceptronClassifier> setter) {
    EFCPMultilayerPerceptronClassifier estimator = new EFCPMultilayerPerceptronClassifier();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> setter.accept(estimator));
    assertTrue(e.getMessage().startsWith(param + ": "), e.getMessage());
    assertFalse(estimator.isSet(estimator.getParam(param)), param + " must keep its default");
  }

  @Test
  void unknownFamilyIsRefusedBySetter() {
    EFCPLogisticRegression estimator = new EFCPLogisticRegression();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> estimator.setFamily("poisson"));
    assertTrue(e.getMessage().startsWith("family: "), e.getMessage());
    assertEquals("auto", estimator.getFamily());
  }
}
