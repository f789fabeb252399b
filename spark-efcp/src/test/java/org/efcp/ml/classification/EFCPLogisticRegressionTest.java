package org.efcp.ml.classification;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.linalg.Matrix;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EFCPLogisticRegressionTest {
  private static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = TestData.session("local[2]", "EFCPLogisticRegressionTest");
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @Test
  void defaultsReachMllibAccuracyWithinHalfAPointOnMultinomialData() {
    Dataset<Row> train = TestData.gaussianClasses(spark, 10_000, 20, 5, 1.5, 1, 2, 2).cache();
    Dataset<Row> test = TestData.gaussianClasses(spark, 4_000, 20, 5, 1.5, 1, 3, 2).cache();
    LogisticRegressionModel mllib = new LogisticRegression().fit(train);
    EFCPLogisticRegressionModel efcp = new EFCPLogisticRegression().fit(train);

    double mllibAcc = TestData.accuracy(mllib.transform(test));
    double efcpAcc = TestData.accuracy(efcp.transform(test));
    assertTrue(mllibAcc > 0.8, "the data are learnable: MLlib " + mllibAcc);
    assertTrue(efcpAcc >= mllibAcc - 0.005, "EFCP " + efcpAcc + " vs MLlib " + mllibAcc);
    assertTrue(efcp.isMultinomial());
    assertEquals(5, efcp.numClasses());
    assertEquals(20, efcp.numFeatures());
    assertEquals(5, efcp.coefficientMatrix().numRows());
    assertEquals(20, efcp.coefficientMatrix().numCols());
    assertEquals(5, efcp.interceptVector().size());
    train.unpersist();
    test.unpersist();
  }

  @Test
  void rawPredictionsAreTheMarginsOfTheReportedCoefficientsInTheOriginalFeatureSpace() {
    // Features on very different scales: standardization must be undone in the reported coefficients.
    Dataset<Row> raw = TestData.gaussianClasses(spark, 1_500, 4, 3, 1.0, 5, 6, 2);
    Dataset<Row> train = spark.createDataFrame(raw.toJavaRDD().map(r -> {
      double[] x = ((Vector) r.get(1)).toArray();
      x[0] *= 1000;
      x[3] *= 0.001;
      return org.apache.spark.sql.RowFactory.create(r.getDouble(0), org.apache.spark.ml.linalg.Vectors.dense(x));
    }), TestData.SCHEMA);
    EFCPLogisticRegressionModel model = new EFCPLogisticRegression().setNumEpochs(3).setBatchSize(300).fit(train);
    Matrix w = model.coefficientMatrix();
    Vector b = model.interceptVector();
    List<Row> rows = model.transform(train).select("features", "rawPrediction", "probability").collectAsList();
    for (Row r : rows) {
      double[] x = ((Vector) r.get(0)).toArray();
      double[] z = ((Vector) r.get(1)).toArray();
      double[] p = ((Vector) r.get(2)).toArray();
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < 3; c++) {
        double expected = b.apply(c);
        for (int j = 0; j < 4; j++) {
          expected += w.apply(c, j) * x[j];
        }
        assertEquals(expected, z[c], 1e-9 * Math.max(1, Math.abs(expected)));
        max = Math.max(max, z[c]);
      }
      double sum = 0;
      for (int c = 0; c < 3; c++) {
        sum += Math.exp(z[c] - max);
      }
      for (int c = 0; c < 3; c++) {
        assertEquals(Math.exp(z[c] - max) / sum, p[c], 1e-12);
      }
    }
    assertTrue(TestData.accuracy(model.transform(train)) > 0.8);
  }

  @Test
  void twoClassesGiveABinomialModelWithMllibsConventions() {
    Dataset<Row> train = TestData.gaussianClasses(spark, 2_000, 6, 2, 1.0, 7, 8, 2);
    EFCPLogisticRegressionModel model = new EFCPLogisticRegression().setNumEpochs(3).setBatchSize(256).fit(train);
    assertFalse(model.isMultinomial());
    assertEquals(2, model.numClasses());
    assertEquals(1, model.coefficientMatrix().numRows());
    assertEquals(6, model.coefficients().size());
    Row r = model.transform(train).select("features", "rawPrediction", "probability").first();
    double[] x = ((Vector) r.get(0)).toArray();
    double zExpected = model.intercept();
    for (int j = 0; j < 6; j++) {
      zExpected += model.coefficients().apply(j) * x[j];
    }
    double[] raw = ((Vector) r.get(1)).toArray();
    assertArrayEquals(new double[] {-zExpected, zExpected}, raw, 1e-9);
    double[] p = ((Vector) r.get(2)).toArray();
    assertEquals(1 / (1 + Math.exp(-zExpected)), p[1], 1e-12);
    assertEquals(1.0, p[0] + p[1], 1e-15);
    LogisticRegressionModel mllib = new LogisticRegression().fit(train);
    assertTrue(TestData.accuracy(model.transform(train)) >= TestData.accuracy(mllib.transform(train)) - 0.01);

    EFCPLogisticRegressionModel multinomial = new EFCPLogisticRegression().setFamily("multinomial")
        .setNumEpochs(3).setBatchSize(256).fit(train);
    assertTrue(multinomial.isMultinomial());
    assertEquals(2, multinomial.coefficientMatrix().numRows());
  }

  @Test
  void everyOptimizerTrainsTheModel() {
    Dataset<Row> train = TestData.gaussianClasses(spark, 2_000, 8, 3, 1.0, 9, 10, 2).cache();
    for (String optimizer : new String[] {"sgd", "adagrad-ef", "dense-mfac", "sparse-mfac", "lowrank-mfac",
        "dense-ggt", "sparse-ggt"}) {
      EFCPLogisticRegressionModel model = new EFCPLogisticRegression().setOptimizer(optimizer).setNumEpochs(3)
          .setBatchSize(250).fit(train);
      double[] history = model.summary().objectiveHistory();
      assertTrue(history[2] < history[0], optimizer + ": objective " + java.util.Arrays.toString(history));
      assertTrue(TestData.accuracy(model.transform(train)) > 0.8, optimizer);
    }
    train.unpersist();
  }
}
