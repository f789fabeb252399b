package org.efcp.ml.train.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.CapturedLog;
import org.efcp.ml.TestData;
import org.efcp.ml.classification.EFCPLogisticRegression;
import org.efcp.ml.classification.EFCPLogisticRegressionModel;
import org.efcp.ml.classification.EFCPMultilayerPerceptronClassificationModel;
import org.efcp.ml.classification.EFCPMultilayerPerceptronClassifier;
import org.efcp.ml.train.StepEngines;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The stream engine through the estimators on local[2]: the same model as the jobs engine, the auto choice,
 * the refusal without enough slots, and nothing left behind.
 */
class StreamEngineFitTest {
  private static SparkSession spark;

  @BeforeAll
  static void start() {
    spark = TestData.session("local[2]", "StreamEngineFitTest");
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  private static EFCPLogisticRegression lr(String engine) {
    return new EFCPLogisticRegression().setNumEpochs(2).setBatchSize(150).setSeed(7).setStepEngine(engine);
  }


  @Test
  void streamAndJobsEnginesTrainBitIdenticalModelsAndTheStreamLeavesNothingBehind() throws Exception {
    Dataset<Row> train = TestData.gaussianClasses(spark, 1_200, 6, 3, 1.0, 11, 12, 2);
    EFCPLogisticRegressionModel jobs = lr("jobs").fit(train);
    EFCPLogisticRegressionModel stream;
    List<String> log;
    try (CapturedLog captured = CapturedLog.of(StreamStepEngine.class)) {
      stream = lr("stream").fit(train);
      log = captured.messages();
    }
    assertEquals("jobs", jobs.summary().stepEngine());
    assertEquals("stream", stream.summary().stepEngine());
    assertEquals(jobs.summary().totalIterations(), stream.summary().totalIterations());
    assertTrue(stream.summary().totalIterations() >= 16);
    assertArrayEquals(TestData.parameters(jobs), TestData.parameters(stream), 0.0);
    assertArrayEquals(jobs.summary().objectiveHistory(), stream.summary().objectiveHistory(), 0.0);
    List<Integer> ports = StreamLeaks.announcedPorts(log);
    assertEquals(1, ports.size(), log.toString());
    StreamLeaks.assertNothingLeft(spark.sparkContext(), ports);
  }

  @Test
  void multilayerPerceptronTrainsTheSameOverBothEngines() {
    Dataset<Row> rings = TestData.rings(spark, 600, 3, 2);
    EFCPMultilayerPerceptronClassifier mlp = new EFCPMultilayerPerceptronClassifier().setLayers(new int[] {2, 8, 2})
        .setNumEpochs(2).setBatchSize(100).setSeed(5);
    EFCPMultilayerPerceptronClassificationModel jobs = mlp.copy(org.apache.spark.ml.param.ParamMap.empty())
        .setStepEngine("jobs").fit(rings);
    EFCPMultilayerPerceptronClassificationModel auto = mlp.fit(rings);
    assertEquals("stream", auto.summary().stepEngine(), "auto on local[2] with 2 partitions");
    assertArrayEquals(jobs.weights().toArray(), auto.weights().toArray(), 0.0);
  }

  @Test
  void autoFallsBackToJobsWhenAPartitionWouldHaveNoSlot() {
    Dataset<Row> three = TestData.gaussianClasses(spark, 300, 4, 2, 1.0, 1, 2, 3);
    try (CapturedLog captured = CapturedLog.of(StepEngines.class)) {
      EFCPLogisticRegressionModel m = lr("auto").setNumEpochs(1).fit(three);
      assertEquals("jobs", m.summary().stepEngine());
      assertTrue(captured.messages().stream().anyMatch(s -> s.contains("jobs (the data has 3 partitions but the "
          + "cluster has 2 task slots")), captured.messages().toString());
    }
  }

  @Test
  void streamWithoutASlotPerPartitionIsRefusedBeforeAnyJob() {
    Dataset<Row> three = TestData.gaussianClasses(spark, 300, 4, 2, 1.0, 1, 2, 3);
    long before = spark.sparkContext().statusTracker().getJobIdsForGroup(null).length;
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> lr("stream").fit(three));
    assertTrue(e.getMessage().startsWith("stepEngine: stream cannot run: the data has 3 partitions but the "
        + "cluster has 2 task slots"), e.getMessage());
    assertEquals(before, spark.sparkContext().statusTracker().getJobIdsForGroup(null).length, "jobs ran");
  }

  @Test
  void stepEngineParamRejectsUnknownValuesNamingTheParam() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new EFCPLogisticRegression().setStepEngine("threads"));
    assertTrue(e.getMessage().startsWith("stepEngine: threads"), e.getMessage());
    assertEquals("stream", new EFCPLogisticRegression().setStepEngine(" Stream ").getStepEngine());
  }
}
