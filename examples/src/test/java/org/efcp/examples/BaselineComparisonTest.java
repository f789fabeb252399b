package org.efcp.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.efcp.ml.TestData;
import org.efcp.ml.classification.EFCPLogisticRegression;
import org.efcp.ml.classification.EFCPMultilayerPerceptronClassifier;
import org.junit.jupiter.api.Test;

class BaselineComparisonTest {

  @Test
  void defaultsRunEveryMethodOnAllOfMnist() {
    BaselineComparison.Settings s = BaselineComparison.parse(new String[0]);
    assertEquals("mnist", s.dataset());
    assertEquals(BaselineComparison.ALL_METHODS, s.methods());
    assertEquals(0, s.train());
    assertEquals(0, s.test());
    assertEquals(100, s.mllibLrIter());
    assertArrayEquals(new int[] {784, 256, 10}, s.layers(784, 10));
  }

  @Test
  void syntheticDataGetsTheBenchmarkSizesUnlessGiven() {
    BaselineComparison.Settings s = BaselineComparison.parse(new String[] {"--dataset", "clip"});
    assertEquals(100_000, s.train());
    assertEquals(20_000, s.test());
    s = BaselineComparison.parse(new String[] {"--dataset", "clip", "--train", "500", "--classes", "20"});
    assertEquals(500, s.train());
    assertEquals(20, s.classes());
    assertArrayEquals(new int[] {768, 256, 20}, s.layers(768, 20));
  }

  @Test
  void methodsAndSizesSelectAQuickRun() {
    BaselineComparison.Settings s = BaselineComparison.parse(new String[] {"--methods", "mllib-lr, efcp-lr:sgd",
        "--train", "2000", "--test", "500", "--lr-epochs", "2", "--hidden", "64,32", "--output", "out"});
    assertEquals(List.of("mllib-lr", "efcp-lr:sgd"), s.methods());
    assertEquals(2000, s.train());
    assertEquals(500, s.test());
    assertArrayEquals(new int[] {784, 64, 32, 10}, s.layers(784, 10));
    assertEquals(Path.of("out"), s.output());
    EFCPLogisticRegression lr = s.efcpLr("sgd");
    assertEquals("sgd", lr.getOptimizer());
    assertEquals(2, lr.getNumEpochs());
  }

  @Test
  void efcpLrStepAndBatchSizesHaveDefaultsPerOptimizerAndDataset() {
    BaselineComparison.Settings s = BaselineComparison.parse(new String[0]);
    assertEquals(0.3, s.efcpLr("sgd").getStepSize(), 0.0);
    assertEquals(0.03, s.efcpLr("sparse-mfac").getStepSize(), 0.0);
    assertEquals(0.1, s.efcpLr("lowrank-mfac").getStepSize(), 0.0);
    assertEquals(1024, s.efcpLr("sgd").getBatchSize());
    assertEquals(8192, BaselineComparison.parse(new String[] {"--dataset", "clip"}).efcpLr("sgd").getBatchSize());
    assertEquals(64, BaselineComparison.parse(new String[] {"--lr-batch-size", "64"}).efcpLr("sgd").getBatchSize());
    s = BaselineComparison.parse(new String[] {"--lr-step-size", "0.3"});
    assertEquals(0.3, s.efcpLr("sgd").getStepSize(), 0.0);
    assertEquals(0.3, s.efcpLr("adagrad-ef").getStepSize(), 0.0);
  }

  @Test
  void theEfcpMlpIsMnistMlpsSettingWithTheDataLayers() {
    BaselineComparison.Settings s = BaselineComparison.parse(new String[] {"--mlp-epochs", "3"});
    EFCPMultilayerPerceptronClassifier mlp = s.efcpMlp("sparse-mfac", 768, 20);
    EFCPMultilayerPerceptronClassifier tuned = MnistMlp.parse(new String[0]).estimator();
    assertArrayEquals(new int[] {768, 256, 20}, mlp.getLayers());
    assertEquals(3, mlp.getNumEpochs());
    assertEquals(tuned.getStepSize(), mlp.getStepSize(), 0.0);
    assertEquals(tuned.getDamping(), mlp.getDamping(), 0.0);
    assertEquals(tuned.getBatchSize(), mlp.getBatchSize());
  }

  @Test
  void badArgumentsAreReportedUnderTheirOption() {
    assertMessageStarts("--dataset", "--dataset", "cifar");
    assertMessageStarts("--methods", "--methods", "mllib-svm");
    assertMessageStarts("--methods", "--methods", "efcp-lr:adam");
    assertMessageStarts("--methods", "--methods", "mllib-lr,");
    assertMessageStarts("--train", "--train", "-1");
    assertMessageStarts("--test", "--test", "many");
    assertMessageStarts("--classes", "--classes", "1");
    assertMessageStarts("--hidden", "--hidden", "0");
    assertMessageStarts("--mllib-lr-iter", "--mllib-lr-iter", "0");
    assertMessageStarts("--nope", "--nope", "1");
  }

  @Test
  void theTableIsWrittenAsMarkdownAndCsv() throws IOException {
    ComparisonTable t = new ComparisonTable();
    t.add(new ComparisonTable.Row("efcp sparse-mfac", "MLP 784-256-10 relu", 12, 708, 301.25, 0.97812, 0.0412346));
    t.add(new ComparisonTable.Row("mllib l-bfgs", "LR, \"multinomial\"", 0, 100, 102.94, 0.9238, 0.2057));
    String md = t.markdown();
    assertEquals(List.of(
        "| method | model | epochs | iterations | fit (s) | test accuracy | final training loss |",
        "|---|---|---|---|---|---|---|",
        "| efcp sparse-mfac | MLP 784-256-10 relu | 12 | 708 | 301.3 | 0.9781 | 0.0412 |",
        "| mllib l-bfgs | LR, \"multinomial\" | – | 100 | 102.9 | 0.9238 | 0.2057 |"), md.lines().toList());
    assertEquals(List.of(ComparisonTable.CSV_HEADER,
        "efcp sparse-mfac,MLP 784-256-10 relu,12,708,301.250,0.9781,0.041235",
        "mllib l-bfgs,\"LR, \"\"multinomial\"\"\",,100,102.940,0.9238,0.205700"), t.csv().lines().toList());
    Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "comparison");
    t.write(dir.resolve("out"));
    assertEquals(md, Files.readString(dir.resolve("out/comparison.md")));
    assertEquals(t.csv(), Files.readString(dir.resolve("out/comparison.csv")));
  }

  @Test
  void trainingLossIsTheMeanNegativeLogProbabilityOfTheLabelClippedAt1e15() {
    SparkSession spark = TestData.session("local[2]", "BaselineComparisonTest");
    try {
      StructType schema = new StructType().add("label", DataTypes.DoubleType)
          .add("probability", SQLDataTypes.VectorType());
      Dataset<Row> df = spark.createDataFrame(List.of(
          RowFactory.create(0.0, Vectors.dense(0.5, 0.25, 0.25)),
          RowFactory.create(2.0, Vectors.dense(0.05, 0.05, 0.9)),
          RowFactory.create(1.0, Vectors.dense(1.0, 0.0, 0.0))), schema);
      double expected = (Math.log(2) - Math.log(0.9) - Math.log(1e-15)) / 3;
      assertEquals(expected, BaselineComparison.crossEntropy(df), 1e-12);
    } finally {
      spark.stop();
    }
  }

  private static void assertMessageStarts(String option, String... args) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> BaselineComparison.parse(args));
    assertTrue(e.getMessage().startsWith(option + ": "), e.getMessage());
  }
}
