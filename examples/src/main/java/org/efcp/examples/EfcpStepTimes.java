package org.efcp.examples;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.efcp.ml.train.StepRecord;

/**
 * Where an EFCP step's time goes: the driver's broadcast and optimizer (from the step records), the gradient job's
 * wall time, and inside it the slowest task's run time (the executors' gradient compute, which runs in parallel);
 * the rest of the job's wall time is Spark's scheduling, serialisation and result transfer.
 */
final class EfcpStepTimes extends SparkListener {
  /** Slowest task run time (ms) per stage of the EFCP step jobs. */
  private final Map<Integer, Long> slowestTaskByStage = new ConcurrentHashMap<>();
  private final Map<Integer, Boolean> efcpStages = new ConcurrentHashMap<>();

  @Override
  public void onJobStart(SparkListenerJobStart jobStart) {
    String description = jobStart.properties() == null ? null
        : jobStart.properties().getProperty("spark.job.description");
    if (description != null && description.startsWith("EFCP epoch")) {
      scala.collection.Iterator<Object> it = jobStart.stageIds().iterator();
      while (it.hasNext()) {
        efcpStages.put((Integer) it.next(), true);
      }
    }
  }

  @Override
  public void onTaskEnd(SparkListenerTaskEnd taskEnd) {
    if (taskEnd.taskMetrics() != null && efcpStages.containsKey(taskEnd.stageId())) {
      slowestTaskByStage.merge(taskEnd.stageId(), taskEnd.taskMetrics().executorRunTime(), Math::max);
    }
  }

  void reset() {
    slowestTaskByStage.clear();
    efcpStages.clear();
  }

  /** Mean per-step milliseconds, as one human line. */
  String describe(List<StepRecord> steps) {
    double broadcast = 0;
    double job = 0;
    double optimizer = 0;
    for (StepRecord r : steps) {
      broadcast += r.broadcastMillis();
      job += r.aggregateMillis();
      optimizer += r.optimizerMillis();
    }
    int n = Math.max(1, steps.size());
    double compute = slowestTaskByStage.values().stream().mapToLong(Long::longValue).sum() / (double) n;
    return String.format(Locale.ROOT, "per step (mean of %d): broadcast %.1f ms, gradient job %.1f ms (slowest "
        + "task %.1f ms, Spark overhead %.1f ms), driver optimizer %.1f ms", steps.size(), broadcast / n, job / n,
        compute, job / n - compute, optimizer / n);
  }
}
