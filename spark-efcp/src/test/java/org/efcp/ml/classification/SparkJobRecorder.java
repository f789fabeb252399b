package org.efcp.ml.classification;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.apache.spark.SparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;

/**
 * Records the description ({@code spark.job.description}, "" when none) of every Spark job started while it is
 * attached, so tests can count jobs and check that training jobs are named "EFCP epoch e/E step s/S".
 */
final class SparkJobRecorder extends SparkListener implements AutoCloseable {
  static final String TRAINING_PREFIX = "EFCP epoch";

  private final SparkContext sc;
  private final List<String> descriptions = Collections.synchronizedList(new ArrayList<>());

  private SparkJobRecorder(SparkContext sc) {
    this.sc = sc;
  }

  /** Starts recording after the events of earlier jobs have been delivered. */
  static SparkJobRecorder attach(SparkContext sc) {
    drain(sc);
    SparkJobRecorder recorder = new SparkJobRecorder(sc);
    sc.addSparkListener(recorder);
    return recorder;
  }

  @Override
  public void onJobStart(SparkListenerJobStart jobStart) {
    String d = jobStart.properties() == null ? null : jobStart.properties().getProperty("spark.job.description");
    descriptions.add(d == null ? "" : d);
  }

  /** Descriptions of the jobs started so far, in start order (waits for pending listener events). */
  List<String> descriptions() {
    drain(sc);
    synchronized (descriptions) {
      return List.copyOf(descriptions);
    }
  }

  /** Jobs whose description marks them as training steps. */
  long trainingJobs() {
    return descriptions().stream().filter(d -> d.startsWith(TRAINING_PREFIX)).count();
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
