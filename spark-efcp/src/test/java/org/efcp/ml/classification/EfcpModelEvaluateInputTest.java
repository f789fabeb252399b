package org.efcp.ml.classification;

import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.SparkJobRecorder;
import org.efcp.ml.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code evaluate} refuses a dataset it cannot score as a fit would: missing or mistyped columns at once, before any
 * job (but a missing weight column means unweighted, as in MLlib); bad labels and weights, no rows or no weight when
 * the metrics job runs, each with one
 * {@link IllegalArgumentException} that names the column (and the row: row 1 of partition 1 is the fourth of the
 * four rows below).
 */
class EfcpModelEvaluateInputTest {
  private static final int FEATURES = 4;

  private static SparkSession spark;
  private static EFCPLogisticRegressionModel model;

  @BeforeAll
  static void fitModel() {
    spark = TestData.session("local[2]", "EfcpModelEvaluateInputTest");
    Dataset<Row> train = GaussianClasses.frame(spark, GaussianClasses.rows(400, FEATURES, 3, 3.0, 5), 2);
    model = QuickFits.logisticRegression().fit(train);
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  /** Four good rows in two partitions of two, the fourth replaced by {@code last} of it. */
  private static Dataset<Row> frame(Function<Row, Row> last) {
    List<Row> rows = new ArrayList<>(GaussianClasses.rows(4, FEATURES, 3, 3.0, 9));
    rows.set(3, last.apply(rows.get(3)));
    return GaussianClasses.frame(spark, rows, 2);
  }

  private static Row withLabel(Row r, Object label) {
    return RowFactory.create(r.get(0), label, r.get(2));
  }

  private static Row withWeight(Row r, Object weight) {
    return RowFactory.create(r.get(0), r.get(1), weight);
  }

  private static EFCPLogisticRegressionModel weighted(String weightCol) {
    return model.copy(ParamMap.empty()).setWeightCol(weightCol);
  }

  /** The message of the error {@code evaluate} throws itself, having started no job. */
  private static String refusedBeforeAnyJob(EFCPLogisticRegressionModel m, Dataset<Row> df) {
    try (SparkJobRecorder recorder = SparkJobRecorder.attach(spark.sparkContext())) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.evaluate(df));
      assertEquals(List.of(), recorder.descriptions(), "jobs before the refusal");
      return e.getMessage();
    }
  }

  /** The message of the error the first metric throws. */
  private static String refusedByTheMetricsJob(EFCPLogisticRegressionModel m, Dataset<Row> df) {
    EFCPClassificationSummary summary = m.evaluate(df);
    return assertThrows(IllegalArgumentException.class, summary::accuracy).getMessage();
  }

  @Test
  void missingLabelColumnIsRefusedBeforeAnyJob() {
    assertEquals("labelCol 'label': no such column (columns: features, w)",
        refusedBeforeAnyJob(model, frame(r -> r).drop("label")));
  }

  @Test
  void labelColumnOfTextIsRefusedBeforeAnyJob() {
    assertEquals("labelCol 'label': must be numeric, got string",
        refusedBeforeAnyJob(model, frame(r -> r).withColumn("label", lit("a"))));
  }

  @Test
  void weightColumnOfTextIsRefusedBeforeAnyJob() {
    assertEquals("weightCol 'w': must be numeric, got string",
        refusedBeforeAnyJob(weighted("w"), frame(r -> r).withColumn("w", lit("heavy"))));
  }

  /** As MLlib's summaries: a model fitted with weights evaluates a dataset without that column unweighted. */
  @Test
  void missingWeightColumnMeansEveryRowWeighsOne() {
    Dataset<Row> df = frame(r -> r).drop("w");
    long hits = 0;
    for (Row r : model.transform(df).select("prediction", "label").collectAsList()) {
      hits += r.getDouble(0) == r.getDouble(1) ? 1 : 0;
    }

    EFCPClassificationSummary summary = weighted("weight").evaluate(df);

    assertEquals("", summary.weightCol());
    assertEquals(hits / 4.0, summary.accuracy(), 1e-12);
  }

  @Test
  void missingFeaturesColumnIsRefusedBeforeAnyJob() {
    assertEquals("featuresCol 'features': no such column (columns: label, w)",
        refusedBeforeAnyJob(model, frame(r -> r).drop("features")));
  }

  @Test
  void nullLabelIsNamedWithItsRow() {
    assertEquals("labelCol 'label': null in row 1 of partition 1",
        refusedByTheMetricsJob(model, frame(r -> withLabel(r, null))));
  }

  @Test
  void labelThatIsNotAClassIndexIsNamedWithItsRow() {
    assertEquals("labelCol 'label': value 0.5 in row 1 of partition 1 is not a class index (labels must be "
        + "integers 0, 1, 2, ...)", refusedByTheMetricsJob(model, frame(r -> withLabel(r, 0.5))));
  }

  @ParameterizedTest
  @ValueSource(doubles = {-1.0, Double.NaN, Double.POSITIVE_INFINITY})
  void weightThatIsNegativeOrNotFiniteIsNamedWithItsRow(double weight) {
    assertEquals("weightCol 'w': value " + weight + " in row 1 of partition 1 (weights must be finite and >= 0)",
        refusedByTheMetricsJob(weighted("w"), frame(r -> withWeight(r, weight))));
  }

  @Test
  void nullWeightIsNamedWithItsRow() {
    assertEquals("weightCol 'w': null in row 1 of partition 1",
        refusedByTheMetricsJob(weighted("w"), frame(r -> withWeight(r, null))));
  }

  @Test
  void datasetWithoutRowsIsRefused() {
    assertEquals("dataset: no rows to evaluate", refusedByTheMetricsJob(model, frame(r -> r).limit(0)));
  }

  @Test
  void weightsThatAreAllZeroAreRefused() {
    assertEquals("weightCol 'w': every weight is 0",
        refusedByTheMetricsJob(weighted("w"), frame(r -> r).withColumn("w", lit(0.0))));
  }

  /** A class the model never saw is a valid label: it counts as a miss, weighted like any other row. */
  @Test
  void labelTheModelDoesNotKnowCountsAsAWeightedMiss() {
    Dataset<Row> df = frame(r -> RowFactory.create(r.get(0), 7.0, 2.5));
    List<Row> predicted = model.transform(df).select("prediction", "label", "w").collectAsList();
    double hits = 0;
    double total = 0;
    for (Row r : predicted) {
      hits += r.getDouble(0) == r.getDouble(1) ? r.getDouble(2) : 0;
      total += r.getDouble(2);
    }

    EFCPClassificationSummary summary = weighted("w").evaluate(df);

    assertEquals(hits / total, summary.accuracy(), 1e-12);
    int last = summary.labels().length - 1;
    assertEquals(7.0, summary.labels()[last], 0.0);
    assertEquals(0.0, summary.recallByLabel()[last], 0.0);
  }
}
