package org.efcp.ml.train.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.cuda.CudaProbe;
import org.efcp.ml.TestData;
import org.efcp.ml.classification.EFCPLogisticRegression;
import org.efcp.ml.classification.EFCPLogisticRegressionModel;
import org.efcp.ml.cluster.LocalStandaloneCluster;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPU scheduling on a real standalone cluster whose Worker offers two GPUs (a discovery script that lists "0" and
 * "1"; this machine has no CUDA): each of the two executor JVMs gets its own GPU address, every task sees it as its
 * CUDA ordinal, and a device=auto fit under both step engines, whose tasks then find no usable CUDA, computes on the
 * CPU and gives exactly the device=cpu model.
 */
class ExecutorGpuClusterTest {
  @TempDir
  static Path dir;

  @Test
  void executorsGetDistinctGpuOrdinalsAndAutoFallsBackToTheCpuModelExactly() throws Exception {
    assumeFalse(CudaProbe.availability().available(), "this machine has CUDA: the fallback is not what runs");
    Path script = dir.resolve("two-gpus.sh");
    Files.writeString(script, "#!/bin/sh\necho '{\"name\":\"gpu\",\"addresses\":[\"0\",\"1\"]}'\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    try (LocalStandaloneCluster cluster = LocalStandaloneCluster.start(2, Map.of(
        "spark.worker.resource.gpu.amount", "2", "spark.worker.resource.gpu.discoveryScript", script.toString()))) {
      SparkSession spark = cluster.sessionBuilder("ExecutorGpuClusterTest")
          .config("spark.executor.resource.gpu.amount", "1")
          .config("spark.task.resource.gpu.amount", "1")
          .getOrCreate();
      try {
        cluster.awaitExecutors(spark.sparkContext(), LocalStandaloneCluster.EXECUTORS_TIMEOUT);
        JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
        List<String> seen = jsc.parallelize(List.of(0, 1, 2, 3, 4, 5, 6, 7), 8).mapPartitions(it -> List.of(
            SparkEnv.get().executorId() + "=" + TaskDevice.assignedOrdinal(TaskContext.get().resourcesJMap()))
            .iterator()).collect();
        Set<String> pairs = new TreeSet<>(seen);
        Set<String> ordinals = new TreeSet<>();
        Set<String> executors = new TreeSet<>();
        for (String p : pairs) {
          executors.add(p.substring(0, p.indexOf('=')));
          ordinals.add(p.substring(p.indexOf('=') + 1));
        }
        assertEquals(Set.of("0", "1"), ordinals, "ordinals seen by tasks: " + seen);
        assertEquals(2, executors.size(), "executors: " + seen);
        assertEquals(2, pairs.size(), "each executor keeps one GPU: " + seen);

        Dataset<Row> train = TestData.gaussianClasses(spark, 2_000, 6, 3, 1.2, 41, 42, 2);
        for (String engine : new String[] {"jobs", "stream"}) {
          EFCPLogisticRegression lr = new EFCPLogisticRegression().setOptimizer("sparse-mfac").setNumEpochs(2)
              .setBatchSize(250).setSeed(5).setStepEngine(engine);
          EFCPLogisticRegressionModel cpu = lr.setDevice("cpu").fit(train);
          EFCPLogisticRegressionModel auto = lr.setDevice("auto").fit(train);
          assertEquals("cpu", auto.summary().device(), engine + ": the driver has no CUDA");
          assertArrayEquals(TestData.parameters(cpu), TestData.parameters(auto), 0.0, engine + ": auto vs cpu");
        }
      } finally {
        spark.stop();
      }
    }
  }
}
