package org.efcp.ml.train;

import java.io.Serializable;
import org.efcp.optim.PreconditioningMetrics;
import org.efcp.optim.StepResult;

/**
 * What one optimizer step of a fit did and where its time went.
 *
 * @param step global step index, counted from 0
 * @param epoch epoch of the step, counted from 1
 * @param stepInEpoch index within the epoch, counted from 0
 * @param rows rows in the step's mini-batch (whole cluster)
 * @param loss weighted mean cross-entropy (natural log) of the mini-batch at the weights before the step
 * @param learningRate η_t applied in this step
 * @param gradientNorm ‖g‖₂ of the mini-batch mean gradient (in the standardized feature space)
 * @param directionNorm ‖u‖₂ of the preconditioned direction after clipping
 * @param clipped whether u was clipped
 * @param cosine cos(u, g) of the final direction, NaN when metrics were not measured at this step
 * @param normRatio ‖u‖/‖g‖, NaN when not measured
 * @param ratioQ25 25th percentile of |u_i/g_i|, NaN when not measured
 * @param ratioQ50 median of |u_i/g_i|, NaN when not measured
 * @param ratioQ75 75th percentile of |u_i/g_i|, NaN when not measured
 * @param broadcastMillis driver time to broadcast the weights, ms
 * @param aggregateMillis wall time of the Spark job that computed and summed the partition gradients, ms
 * @param optimizerMillis driver time of the optimizer step (error feedback, preconditioner, update), ms
 */
public record StepRecord(
    long step, int epoch, int stepInEpoch, long rows, double loss, double learningRate, double gradientNorm,
    double directionNorm, boolean clipped, double cosine, double normRatio, double ratioQ25, double ratioQ50,
    double ratioQ75, double broadcastMillis, double aggregateMillis, double optimizerMillis)
    implements Serializable {

  static StepRecord of(int epoch, int stepInEpoch, long rows, double loss, StepResult r, double broadcastMillis,
      double aggregateMillis, double optimizerMillis) {
    PreconditioningMetrics m = r.metrics();
    double nan = Double.NaN;
    return new StepRecord(r.step(), epoch, stepInEpoch, rows, loss, r.learningRate(), r.gradientNorm(),
        r.directionNorm(), r.clipped(), m == null ? nan : m.cosine(), m == null ? nan : m.normRatio(),
        m == null ? nan : m.q25(), m == null ? nan : m.q50(), m == null ? nan : m.q75(), broadcastMillis,
        aggregateMillis, optimizerMillis);
  }

  /** Whether the preconditioning metrics were measured at this step. */
  public boolean hasMetrics() {
    return !Double.isNaN(cosine);
  }
}
