package org.efcp.ml.train;

import java.io.Serializable;
import java.util.List;

/**
 * The outcome of {@link EfcpTrainer#train}: the parameters (in the training space, i.e. standardized when the
 * estimator standardizes) and the history.
 *
 * @param parameters θ after the last step, every entry finite
 * @param objectiveHistory weighted mean mini-batch loss per completed epoch
 * @param steps every step's record, in order
 * @param totalIterations optimizer steps taken (including those before a resume)
 * @param optimizerMemoryBytes bytes held by the optimizer state (window, error buffer, m×m state, momentum)
 * @param wallSeconds wall time of the training loop in this fit, s (excludes the data preparation pass)
 * @param resumedFromStep the checkpoint step this fit resumed from, or -1
 * @param device "cpu" or "gpu": where the driver's optimizer ran
 * @param stepEngine "jobs" or "stream": how the partitions' gradients reached the driver
 */
public record TrainingResult(
    double[] parameters, double[] objectiveHistory, List<StepRecord> steps, long totalIterations,
    long optimizerMemoryBytes, double wallSeconds, long resumedFromStep, String device, String stepEngine) implements Serializable {}
