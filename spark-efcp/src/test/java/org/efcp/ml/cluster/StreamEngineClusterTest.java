package org.efcp.ml.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.CapturedLog;
import org.efcp.ml.TestData;
import org.efcp.ml.classification.EFCPLogisticRegression;
import org.efcp.ml.classification.EFCPLogisticRegressionModel;
import org.efcp.ml.train.stream.StreamStepEngine;
import org.junit.jupiter.api.Test;

/**
 * The stream engine on a real standalone cluster with two executor JVMs: the same model as the jobs engine,
 * also when an executor is SIGKILLed in the middle of the fit (the barrier stage fails, Spark reruns it on the
 * replacement executor, the driver repeats the unfinished step), and nothing left on the driver afterwards.
 */
class StreamEngineClusterTest {
  private static final int PARTITIONS = 2;

  private static EFCPLogisticRegression estimator(String engine) {
    return new EFCPLogisticRegression().setNumEpochs(3).setBatchSize(250).setSeed(3).setStepEngine(engine);
  }


  @Test
  void streamGivesTheJobsModelOnTwoExecutorJvmsEvenWhenAnExecutorIsKilled() throws Exception {
    try (LocalStandaloneCluster cluster = LocalStandaloneCluster.start(2)) {
      SparkSession spark = cluster.startSession("StreamEngineClusterTest");
      try (CapturedLog log = CapturedLog.of(StreamStepEngine.class)) {
        Dataset<Row> train = TestData.gaussianClasses(spark, 3_000, 8, 4, 1.2, 31, 32, PARTITIONS);
        EFCPLogisticRegressionModel jobs = estimator("jobs").fit(train);
        EFCPLogisticRegressionModel auto = estimator("auto").fit(train);
        assertEquals("stream", auto.summary().stepEngine(), "auto with a slot per partition");
        assertArrayEquals(TestData.parameters(jobs), TestData.parameters(auto), 0.0,
            "stream vs jobs on 2 executor JVMs");

        ExecutorKiller killer = new ExecutorKiller(cluster, 6);
        EFCPLogisticRegressionModel survivor = estimator("stream").addListener(killer).fit(train);
        assertTrue(killer.killedPid() > 0, "an executor was killed");
        assertEquals("stream", survivor.summary().stepEngine());
        assertArrayEquals(TestData.parameters(jobs), TestData.parameters(survivor), 0.0,
            "stream fit with an executor killed at step 6");
        assertEquals(jobs.summary().totalIterations(), survivor.summary().totalIterations());
        assertTrue(log.messages().stream().anyMatch(m -> m.contains("repeating step 7")), log.messages().toString());
        org.efcp.ml.train.stream.StreamTestAccess.assertNothingLeft(spark.sparkContext(), log.messages());
      } finally {
        spark.stop();
      }
    }
  }
}
