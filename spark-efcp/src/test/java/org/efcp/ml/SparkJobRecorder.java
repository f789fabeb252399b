package org.efcp.ml;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Predicate;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerStageSubmitted;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import scala.Enumeration;

/**
 * Records the description ({@code spark.job.description}, "" when none) of every Spark job started while it is
 * attached, so tests can count jobs and check that training jobs are named "EFCP epoch e/E step s/S", and where
 * each finished task ran (executor, locality) under the description of its job.
 */
public final class SparkJobRecorder extends SparkListener implements AutoCloseable {
  public static final String TRAINING_PREFIX = "EFCP epoch";

  private final SparkContext sc;
  private final List<String> descriptions = Collections.synchronizedList(new ArrayList<>());
  private final Map<Integer, String> stageDescriptions = new ConcurrentHashMap<>();
  private final List<Task> tasks = Collections.synchronizedList(new ArrayList<>());

  /** A finished task: its job's description, the executor it ran on and its locality. */
  public record Task(String description, String executor, Enumeration.Value locality) {}

  private SparkJobRecorder(SparkContext sc) {
    this.sc = sc;
  }

  /** Starts recording after the events of earlier jobs have been delivered. */
  public static SparkJobRecorder attach(SparkContext sc) {
    drain(sc);
    SparkJobRecorder recorder = new SparkJobRecorder(sc);
    sc.addSparkListener(recorder);
    return recorder;
  }

  @Override
  public void onJobStart(SparkListenerJobStart jobStart) {
    descriptions.add(description(jobStart.properties()));
  }

  @Override
  public void onStageSubmitted(SparkListenerStageSubmitted submitted) {
    stageDescriptions.put(submitted.stageInfo().stageId(), description(submitted.properties()));
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd taskEnd) {
    tasks.add(new Task(stageDescriptions.getOrDefault(taskEnd.stageId(), ""), taskEnd.taskInfo().executorId(),
        taskEnd.taskInfo().taskLocality()));
  }

  /** Descriptions of the jobs started so far, in start order (waits for pending listener events). */
  public List<String> descriptions() {
    drain(sc);
    synchronized (descriptions) {
      return List.copyOf(descriptions);
    }
  }

  /** Jobs whose description marks them as training steps. */
  public long trainingJobs() {
    return descriptions().stream().filter(d -> d.startsWith(TRAINING_PREFIX)).count();
  }

  /** Finished tasks of the jobs whose description matches (waits for pending listener events). */
  public List<Task> tasks(Predicate<String> description) {
    drain(sc);
    synchronized (tasks) {
      return tasks.stream().filter(t -> description.test(t.description())).toList();
    }
  }

  private static String description(java.util.Properties properties) {
    String d = properties == null ? null : properties.getProperty("spark.job.description");
    return d == null ? "" : d;
  }

  /** Waits until the listener bus has delivered every posted event. */
  private static void drain(SparkContext sc) {
    try {
      sc.listenerBus().waitUntilEmpty(10_000);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("Spark listener bus did not drain in 10 s", e);
    }
  }

  @Override
  public void close() {
    sc.removeSparkListener(this);
  }
}
