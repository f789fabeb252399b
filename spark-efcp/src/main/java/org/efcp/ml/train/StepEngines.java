package org.efcp.ml.train;

import java.util.Locale;
import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaRDD;
import org.efcp.ml.train.stream.StreamSettings;
import org.efcp.ml.train.stream.StreamStepEngine;
import org.efcp.ml.train.stream.StreamUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Chooses the step engine of a fit from the {@code stepEngine} param: {@code jobs}, {@code stream}, or
 * {@code auto} = stream when the cluster has a task slot for every partition (and barrier stages are possible),
 * else jobs. The choice is logged.
 */
public final class StepEngines {
  private static final Logger LOG = LoggerFactory.getLogger(StepEngines.class);
  /** The values of the {@code stepEngine} param. */
  public static final String[] MODES = {"auto", "jobs", "stream"};

  private StepEngines() {}

  /**
   * Why the stream engine cannot run {@code numPartitions} tasks on this cluster now, or null when it can.
   * Needs no job: slots are counted from the registered executors (local mode: its threads).
   */
  public static String streamObstacle(SparkContext sc, int numPartitions) {
    SparkConf conf = sc.getConf();
    if (conf.getBoolean("spark.dynamicAllocation.enabled", false)) {
      return "barrier stages do not run with spark.dynamicAllocation.enabled";
    }
    int slots = sc.maxNumConcurrentTasks(sc.resourceProfileManager().defaultResourceProfile());
    if (slots < numPartitions) {
      return String.format(Locale.ROOT, "the data has %d partitions but the cluster has %d task slots (one "
          + "long-lived task per partition); repartition to at most %d or use stepEngine=jobs", numPartitions,
          slots, Math.max(1, slots));
    }
    return null;
  }

  /**
   * Refuses {@code stepEngine=stream} before any job when the cluster cannot run it, and bad
   * {@code spark.efcp.stream.*} settings whenever the stream engine may run.
   *
   * @throws IllegalArgumentException "stepEngine: stream …" naming the obstacle, or naming the setting
   */
  public static void check(String mode, SparkContext sc, int numPartitions) {
    if (!"jobs".equals(mode)) {
      StreamSettings.of(sc.getConf());
    }
    String obstacle = "stream".equals(mode) ? streamObstacle(sc, numPartitions) : null;
    if (obstacle != null) {
      throw refusal(obstacle);
    }
  }

  private static IllegalArgumentException refusal(String obstacle) {
    return new IllegalArgumentException("stepEngine: stream cannot run: " + obstacle);
  }

  /** Opens the engine {@code mode} asks for (see the class comment). */
  static StepEngine open(String mode, JavaRDD<TrainingBlock> blocks, PartitionGradient kernel, double[] scale,
      int aggregationDepth) {
    if (!"jobs".equals(mode)) {
      SparkContext sc = blocks.context();
      int p = blocks.getNumPartitions();
      String obstacle = streamObstacle(sc, p);
      if (obstacle != null && "stream".equals(mode)) {
        throw refusal(obstacle);
      }
      if (obstacle == null && "auto".equals(mode)
          && (sc.getConf().getBoolean("spark.network.crypto.enabled", false)
              || sc.getConf().getBoolean("spark.ssl.enabled", false))) {
        obstacle = "Spark's RPC is encrypted and the stream channel is authenticated but not encrypted";
      }
      if (obstacle == null) {
        try {
          StepEngine engine = StreamStepEngine.start(blocks, kernel, scale, StreamSettings.of(sc.getConf()));
          LOG.info("EFCP step engine: stream ({} long-lived tasks)", p);
          return engine;
        } catch (StreamUnavailableException e) {
          if ("stream".equals(mode)) {
            throw new IllegalStateException("stepEngine: stream could not start: " + e.getMessage(), e);
          }
          obstacle = "the stream engine could not start: " + e.getMessage();
        }
      }
      LOG.info("EFCP step engine: jobs ({})", obstacle);
    } else {
      LOG.info("EFCP step engine: jobs (stepEngine=jobs)");
    }
    return new JobStepEngine(blocks, kernel, scale, aggregationDepth);
  }
}
