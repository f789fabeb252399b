package org.efcp.ml.train.gpu;

import java.io.Serializable;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.spark.SparkContext;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.util.LongAccumulator;

/**
 * The rows one fit keeps on executor GPUs ({@link DeviceGradients}): the key that scopes them, and a count of the
 * partition steps computed on an executor GPU, with which the driver knows whether there is anything to free when
 * the fit ends.
 *
 * <p>Executors cannot hear of the driver's unpersist, so the driver frees the rows itself, just before it unpersists
 * the fit's cached blocks: {@link #release} runs one task per cached block, which Spark places on the executor
 * holding the block (process-local), i.e. where that partition's step tasks ran and uploaded its rows; each task
 * frees every row of the fit in its JVM. Rows that a step task uploaded on another executor (a task that ran away
 * from its cached block) are freed there once that executor has worked on enough newer fits (DeviceGradients).
 */
public final class ExecutorDeviceRows implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String fit;
  private final LongAccumulator gpuSteps;

  private ExecutorDeviceRows(String fit, LongAccumulator gpuSteps) {
    this.fit = fit;
    this.gpuSteps = gpuSteps;
  }

  /** A new fit's rows: a fresh key and a step counter registered with {@code sc}. */
  public static ExecutorDeviceRows open(SparkContext sc) {
    return new ExecutorDeviceRows(UUID.randomUUID().toString(), sc.longAccumulator("EFCP partition steps on GPUs"));
  }

  /** The key that scopes this fit's rows in every executor JVM. */
  public String fit() {
    return fit;
  }

  /** Task side: one partition step ran on this executor's GPU. */
  public void countGpuStep() {
    gpuSteps.add(1);
  }

  /**
   * Driver side: partition steps that ran on executor GPUs (complete for every finished task; 0 when every task
   * computed on its CPU).
   */
  public long gpuSteps() {
    return gpuSteps.value();
  }

  /**
   * Driver side, after the last step and before {@code blocks} is unpersisted: frees this fit's rows in the JVM of
   * every executor that holds one of {@code blocks} (one job, one task per partition; the cached blocks are only
   * looked up, not computed).
   *
   * @param blocks the fit's cached blocks, still persisted
   * @return the ids of the executors whose rows were freed
   */
  public Set<String> release(JavaRDD<?> blocks) {
    String key = fit;
    List<String> executors = blocks.mapPartitions(it -> {
      DeviceGradients.releaseFit(key);
      return List.of(SparkEnv.get().executorId()).iterator();
    }).collect();
    return new TreeSet<>(executors);
  }
}
