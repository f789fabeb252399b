package org.efcp.examples;

import java.util.Arrays;
import java.util.List;
import org.efcp.ml.train.StepRecord;

/**
 * Where the measured steps of one fit spent their time, in ms: medians over the steps of the step record's parts,
 * and the mean wall time per step.
 *
 * @param engine the step engine that ran ("jobs" or "stream", as the training result says)
 * @param steps number of measured steps
 * @param transport median of broadcastMillis + aggregateMillis (per step, then the median): shipping the weights
 *     and getting the summed gradient back, including the executors' compute
 * @param broadcast median broadcastMillis
 * @param aggregate median aggregateMillis
 * @param optimizer median optimizerMillis
 * @param wall mean wall time per step on the driver, everything included (wall of the measured steps / steps)
 */
record StepTimings(String engine, int steps, double transport, double broadcast, double aggregate,
    double optimizer, double wall) {

  /**
   * @param measured the records of the measured steps, at least one
   * @param wallMillis driver wall time from the end of the last warm-up step to the end of the last measured step
   */
  static StepTimings of(String engine, List<StepRecord> measured, double wallMillis) {
    if (measured.isEmpty()) {
      throw new IllegalArgumentException("measured: no steps");
    }
    int n = measured.size();
    double[] transport = new double[n];
    double[] broadcast = new double[n];
    double[] aggregate = new double[n];
    double[] optimizer = new double[n];
    for (int i = 0; i < n; i++) {
      StepRecord r = measured.get(i);
      transport[i] = r.broadcastMillis() + r.aggregateMillis();
      broadcast[i] = r.broadcastMillis();
      aggregate[i] = r.aggregateMillis();
      optimizer[i] = r.optimizerMillis();
    }
    return new StepTimings(engine, n, median(transport), median(broadcast), median(aggregate), median(optimizer),
        wallMillis / n);
  }

  /** The middle value, or the mean of the two middle values for an even count. */
  static double median(double[] values) {
    double[] v = values.clone();
    Arrays.sort(v);
    int n = v.length;
    return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
  }
}
