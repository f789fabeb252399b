package org.efcp.ml.classification;

import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.efcp.ml.train.StepRecord;
import org.efcp.ml.train.TrainingResult;

/**
 * How a fit went: the per-epoch objective, every step's record (loss, step size, preconditioning metrics, timing),
 * the optimizer's memory and the wall time, plus the classification metrics on the training data.
 */
public class EFCPTrainingSummary extends EFCPClassificationSummary {
  private static final long serialVersionUID = 1L;

  private final TrainingResult result;
  private final double fitSeconds;

  EFCPTrainingSummary(Dataset<Row> predictions, String predictionCol, String labelCol, String weightCol,
      TrainingResult result, double fitSeconds) {
    super(predictions, predictionCol, labelCol, weightCol);
    this.result = result;
    this.fitSeconds = fitSeconds;
  }

  /**
   * The weighted mean training loss (natural-log cross-entropy) of each epoch, over its mini-batches, each
   * evaluated at the weights before its step. One entry per completed epoch.
   */
  public double[] objectiveHistory() {
    return result.objectiveHistory().clone();
  }

  /** Every optimizer step's record, in order. */
  public List<StepRecord> steps() {
    return result.steps();
  }

  /** The records that carry preconditioning metrics (every metricsInterval steps). */
  public List<StepRecord> metricsSteps() {
    return result.steps().stream().filter(StepRecord::hasMetrics).toList();
  }

  /** Optimizer steps taken. */
  public long totalIterations() {
    return result.totalIterations();
  }

  /** Bytes held by the optimizer state (window, error buffer, m×m state, momentum) at the end. */
  public long optimizerMemoryBytes() {
    return result.optimizerMemoryBytes();
  }

  /** Wall time of the training loop, s. */
  public double trainingSeconds() {
    return result.wallSeconds();
  }

  /** Wall time of the whole fit (validation, summarizer pass, training, model assembly), s. */
  public double fitSeconds() {
    return fitSeconds;
  }

  /** The global step this fit resumed from (its checkpoint), or -1 for a fit from scratch. */
  public long resumedFromStep() {
    return result.resumedFromStep();
  }

  /** "cpu" or "gpu": where the driver's optimizer ran. */
  public String device() {
    return result.device();
  }

  /** "jobs" or "stream": how the partitions' gradients reached the driver in this fit. */
  public String stepEngine() {
    return result.stepEngine();
  }
}
