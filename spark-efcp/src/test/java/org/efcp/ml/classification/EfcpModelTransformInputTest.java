package org.efcp.ml.classification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.apache.spark.SparkException;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A row a fitted model cannot score fails the transform's job with an {@link IllegalArgumentException} (the cause of
 * Spark's UDF failure) that names the features column and says what is wrong with the row, for every output column
 * the transform computes.
 */
class EfcpModelTransformInputTest {
  private static final int FEATURES = 4;
  private static final String NULL_ROW = "featuresCol 'features': null in a row (every row to score needs a vector)";

  private static SparkSession spark;
  private static EFCPLogisticRegressionModel logisticRegression;
  private static EFCPMultilayerPerceptronClassificationModel perceptron;

  @BeforeAll
  static void fitModels() {
    spark = TestData.session("local[2]", "EfcpModelTransformInputTest");
    Dataset<Row> train = GaussianClasses.frame(spark, GaussianClasses.rows(400, FEATURES, 3, 3.0, 5), 2);
    logisticRegression = QuickFits.logisticRegression().fit(train);
    perceptron = QuickFits.perceptron(FEATURES).fit(train);
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  /** Two good rows around {@code bad}, in one partition. */
  private static Dataset<Row> frameWith(Row bad) {
    List<Row> rows = new ArrayList<>(GaussianClasses.rows(2, FEATURES, 3, 3.0, 9));
    rows.add(1, bad);
    return GaussianClasses.frame(spark, rows, 1);
  }

  /** Collects the transform and returns the IllegalArgumentException among the failure's causes. */
  private static IllegalArgumentException transformFailure(EfcpClassificationModel<?> model, Dataset<Row> df) {
    SparkException e = assertThrows(SparkException.class, () -> model.transform(df).collectAsList());
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof IllegalArgumentException iae) {
        return iae;
      }
    }
    throw new AssertionError("no IllegalArgumentException among the causes", e);
  }

  @Test
  void nullFeaturesRowIsNamedAsNullInTheFeaturesColumn() {
    IllegalArgumentException e = transformFailure(logisticRegression, frameWith(RowFactory.create(null, 0.0, 1.0)));

    assertEquals(NULL_ROW, e.getMessage());
  }

  @Test
  void nullFeaturesRowIsNamedWhenOnlyThePredictionIsComputed() {
    EFCPMultilayerPerceptronClassificationModel predictionOnly = perceptron.copy(ParamMap.empty())
        .setRawPredictionCol("").setProbabilityCol("");

    IllegalArgumentException e = transformFailure(predictionOnly, frameWith(RowFactory.create(null, 0.0, 1.0)));

    assertEquals(NULL_ROW, e.getMessage());
  }

  @Test
  void nonFiniteValueIsNamedWithItsIndex() {
    IllegalArgumentException e = transformFailure(logisticRegression,
        frameWith(GaussianClasses.row(new double[] {0.5, 1, Double.NaN, 2}, 0.0, 1.0)));

    assertEquals("featuresCol 'features': value NaN at index 2 (features must be finite)", e.getMessage());
  }

  @Test
  void infiniteValueIsNamedWhenOnlyThePredictionIsComputed() {
    EFCPMultilayerPerceptronClassificationModel predictionOnly = perceptron.copy(ParamMap.empty())
        .setRawPredictionCol("").setProbabilityCol("");

    IllegalArgumentException e = transformFailure(predictionOnly,
        frameWith(GaussianClasses.row(new double[] {Double.NEGATIVE_INFINITY, 0, 0, 0}, 0.0, 1.0)));

    assertEquals("featuresCol 'features': value -Infinity at index 0 (features must be finite)", e.getMessage());
  }

  @Test
  void vectorOfAnotherSizeIsNamedWithBothSizes() {
    IllegalArgumentException e =
        transformFailure(perceptron, frameWith(GaussianClasses.row(new double[] {1, 2, 3}, 0.0, 1.0)));

    assertEquals("featuresCol 'features': vector of size 3, the model expects 4", e.getMessage());
  }
}
