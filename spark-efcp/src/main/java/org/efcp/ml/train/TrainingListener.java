package org.efcp.ml.train;

/**
 * Receives a fit's progress live, on the driver, in the thread that runs {@code fit}. Implementations should
 * return quickly: the next step waits for them. An exception thrown here stops the fit.
 */
public interface TrainingListener {

  /** After every optimizer step. */
  void onStep(StepRecord record);

  /**
   * After every epoch.
   *
   * @param epoch the epoch just finished, counted from 1
   * @param objective the weighted mean training loss over the epoch's mini-batches (each evaluated at the
   *     weights before its step)
   */
  default void onEpochEnd(int epoch, double objective) {}
}
