package org.efcp.ml.classification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.TestData;
import org.efcp.model.Activation;
import org.efcp.model.DenseBlock;
import org.efcp.model.MultilayerPerceptron;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class EFCPMultilayerPerceptronClassifierTest {
  private static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = TestData.session("local[2]", "EFCPMultilayerPerceptronClassifierTest");
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @Test
  void learnsConcentricRingsThatLogisticRegressionCannotSeparate() {
    Dataset<Row> train = TestData.rings(spark, 3_000, 11, 2).cache();
    Dataset<Row> test = TestData.rings(spark, 1_000, 12, 2).cache();
    double lr = TestData.accuracy(new EFCPLogisticRegression().fit(train).transform(test));
    EFCPMultilayerPerceptronClassificationModel mlp = new EFCPMultilayerPerceptronClassifier()
        .setLayers(new int[] {2, 16, 2}).setActivation("tanh").setNumEpochs(20).setBatchSize(256).fit(train);
    double mlpAcc = TestData.accuracy(mlp.transform(test));
    assertTrue(lr < 0.7, "no line separates the rings: LR accuracy " + lr);
    assertTrue(mlpAcc > 0.95, "MLP accuracy " + mlpAcc);
    train.unpersist();
    test.unpersist();
  }

  @Test
  void predictionsAreTheNetworksOutputsForTheReportedWeights() {
    Dataset<Row> train = TestData.gaussianClasses(spark, 800, 5, 3, 1.0, 13, 14, 2);
    EFCPMultilayerPerceptronClassificationModel model = new EFCPMultilayerPerceptronClassifier()
        .setLayers(new int[] {5, 7, 3}).setNumEpochs(2).setBatchSize(200).fit(train);
    assertEquals(5 * 7 + 7 + 7 * 3 + 3, model.weights().size());
    MultilayerPerceptron net = new MultilayerPerceptron(new int[] {5, 7, 3}, Activation.RELU);
    for (Row r : model.transform(train).select("features", "rawPrediction").limit(50).collectAsList()) {
      double[] x = ((org.apache.spark.ml.linalg.Vector) r.get(0)).toArray();
      double[] expected = new double[3];
      net.predictRaw(new DenseBlock(1, 5, x, new double[1]), model.weights().toArray(), expected);
      double[] raw = ((org.apache.spark.ml.linalg.Vector) r.get(1)).toArray();
      for (int c = 0; c < 3; c++) {
        assertEquals(expected[c], raw[c], 1e-12);
      }
    }
  }
}
