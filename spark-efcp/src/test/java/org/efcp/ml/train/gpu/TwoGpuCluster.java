package org.efcp.ml.train.gpu;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

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

  @Override
  public void close() {
    spark.stop();
    cluster.close();
  }
}
