package org.efcp.ml.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicInteger;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerExecutorRemoved;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.TestData;
import org.efcp.ml.classification.EFCPLogisticRegression;
import org.efcp.ml.classification.EFCPLogisticRegressionModel;
import org.junit.jupiter.api.Test;

/**
 * The same data, partitioning and seed give bit-identical models in local[1], local[2] and on a real standalone
 * cluster with two executor JVMs — also when an executor is killed in the middle of the fit (its cached blocks
 * and running tasks are lost and recomputed).
 */
class EfcpDistributedFitTest {
  private static final int PARTITIONS = 4;

  private static Dataset<Row> data(SparkSession spark) {
    return TestData.gaussianClasses(spark, 3_000, 8, 4, 1.2, 31, 32, PARTITIONS);
  }

  private static EFCPLogisticRegression estimator() {
    return new EFCPLogisticRegression().setNumEpochs(3).setBatchSize(250).setSeed(3);
  }

  private static double[] fitLocal(String master) {
    SparkSession spark = TestData.session(master, "EfcpDistributedFitTest " + master);
    try {
      return TestData.parameters(estimator().fit(data(spark)));
    } finally {
      spark.stop();
    }
  }


  @Test
  void localAndStandaloneClusterFitsGiveTheSameModelEvenWhenAnExecutorIsKilled() {
    double[] local1 = fitLocal("local[1]");
    double[] local2 = fitLocal("local[2]");
    assertArrayEquals(local1, local2, 0.0, "local[1] vs local[2]");

    try (LocalStandaloneCluster cluster = LocalStandaloneCluster.start(2)) {
      SparkSession spark = cluster.startSession("EfcpDistributedFitTest cluster");
      try {
        Dataset<Row> train = data(spark);
        double[] onCluster = TestData.parameters(estimator().fit(train));
        assertArrayEquals(local1, onCluster, 0.0, "local[1] vs 2 executor JVMs");

        AtomicInteger removed = new AtomicInteger();
        spark.sparkContext().addSparkListener(new SparkListener() {
          @Override
          public void onExecutorRemoved(SparkListenerExecutorRemoved event) {
            removed.incrementAndGet();
          }
        });
        ExecutorKiller killer = new ExecutorKiller(cluster, 6);
        EFCPLogisticRegressionModel survivor = estimator().addListener(killer).fit(train);
        assertTrue(killer.killedPid() > 0, "an executor was killed");
        assertTrue(!ProcessHandle.of(killer.killedPid()).map(ProcessHandle::isAlive).orElse(false));
        assertArrayEquals(local1, TestData.parameters(survivor), 0.0, "fit with an executor killed at step 6");
        assertEquals(estimator().fit(train).summary().totalIterations(), survivor.summary().totalIterations());
        assertTrue(removed.get() >= 1, "Spark noticed the lost executor");
      } finally {
        spark.stop();
      }
    }
  }
}
