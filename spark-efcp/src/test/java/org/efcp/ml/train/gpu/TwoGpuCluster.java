package org.efcp.ml.train.gpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.cluster.LocalStandaloneCluster;

/**
 * A real standalone cluster whose Worker offers two GPUs (a discovery script in {@code dir} that lists "0" and "1"),
 * and a session on it that gives each of its two executors one GPU and each task one; ready once both executors have
 * registered. Closing stops the session, then the cluster.
 */
final class TwoGpuCluster implements AutoCloseable {
  final LocalStandaloneCluster cluster;
  final SparkSession spark;

  private TwoGpuCluster(LocalStandaloneCluster cluster, SparkSession spark) {
    this.cluster = cluster;
    this.spark = spark;
  }

  /** Starts the cluster and a session named {@code app} with {@code sessionSettings} added. */
  static TwoGpuCluster start(Path dir, String app, Map<String, String> sessionSettings) throws IOException {
    Path script = dir.resolve("two-gpus.sh");
    Files.writeString(script, "#!/bin/sh\necho '{\"name\":\"gpu\",\"addresses\":[\"0\",\"1\"]}'\n");
    Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
    LocalStandaloneCluster cluster = LocalStandaloneCluster.start(2, Map.of(
        "spark.worker.resource.gpu.amount", "2", "spark.worker.resource.gpu.discoveryScript", script.toString()));
    SparkSession spark = null;
    try {
      SparkSession.Builder builder = cluster.sessionBuilder(app)
          .config("spark.executor.resource.gpu.amount", "1")
          .config("spark.task.resource.gpu.amount", "1");
      sessionSettings.forEach(builder::config);
      spark = builder.getOrCreate();
      cluster.awaitExecutors(spark.sparkContext(), LocalStandaloneCluster.EXECUTORS_TIMEOUT);
      return new TwoGpuCluster(cluster, spark);
    } catch (RuntimeException e) {
      if (spark != null) {
        spark.stop();
      }
      cluster.close();
      throw e;
    }
  }

  /**
   * What {@code question} answers in each of {@code tasks} short tasks, given the task's GPU ordinal, gathered by
   * executor id. The tasks wait 50 ms each, so both executors (one GPU task slot each) take some.
   */
  Map<String, Set<String>> askEachExecutor(int tasks, Function<Integer, String> question) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<Integer> indices = new ArrayList<>();
    for (int i = 0; i < tasks; i++) {
      indices.add(i);
    }
    List<String[]> answers = jsc.parallelize(indices, tasks).mapPartitions(it -> {
      Thread.sleep(50);
      int ordinal = TaskDevice.assignedOrdinal(TaskContext.get().resourcesJMap());
      return List.<String[]>of(new String[] {SparkEnv.get().executorId(), question.call(ordinal)}).iterator();
    }).collect();
    Map<String, Set<String>> byExecutor = new TreeMap<>();
    for (String[] a : answers) {
      byExecutor.computeIfAbsent(a[0], e -> new TreeSet<>()).add(a[1]);
    }
    return byExecutor;
  }

  @Override
  public void close() {
    spark.stop();
    cluster.close();
  }
}
