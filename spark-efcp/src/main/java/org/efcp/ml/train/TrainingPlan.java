package org.efcp.ml.train;

import java.util.List;
import org.efcp.cuda.DevicePreference;

/**
 * How a fit runs: epochs, mini-batches, stopping, aggregation, metrics, checkpoints and listeners. The values
 * were validated by the estimator's params.
 *
 * @param numEpochs passes over the data, ≥ 1
 * @param batchSize rows per step over the whole dataset, ≥ 1
 * @param seed seed of the per-epoch row permutation
 * @param tol relative change of the epoch objective that stops training (0 = never)
 * @param aggregationDepth treeAggregate depth, ≥ 2
 * @param metricsInterval steps between preconditioning metrics and progress lines (0 = off)
 * @param checkpointInterval steps between checkpoints
 * @param checkpointDir Hadoop path for checkpoints, "" = off
 * @param device where the driver's optimizer runs
 * @param stepEngine auto, jobs or stream: how the partitions' gradients reach the driver ({@link StepEngines})
 * @param listeners receive step records and epoch ends
 * @param fingerprint identifies the fit's settings; a checkpoint written under another fingerprint is refused
 */
public record TrainingPlan(
    int numEpochs, int batchSize, long seed, double tol, int aggregationDepth, int metricsInterval,
    int checkpointInterval, String checkpointDir, DevicePreference device, String stepEngine,
    List<TrainingListener> listeners, String fingerprint) {

  public static Builder builder() {
    return new Builder();
  }

  /** Whether checkpoints are written and resumed. */
  public boolean checkpointing() {
    return checkpointDir != null && !checkpointDir.isEmpty();
  }

  /** Mutable builder; {@link #build()} copies the listener list. */
  public static final class Builder {
    private int numEpochs = 10;
    private int batchSize = 1024;
    private long seed;
    private double tol;
    private int aggregationDepth = 2;
    private int metricsInterval;
    private int checkpointInterval = 50;
    private String checkpointDir = "";
    private DevicePreference device = DevicePreference.AUTO;
    private String stepEngine = "auto";
    private List<TrainingListener> listeners = List.of();
    private String fingerprint = "";

    public Builder numEpochs(int v) { numEpochs = v; return this; }
    public Builder batchSize(int v) { batchSize = v; return this; }
    public Builder seed(long v) { seed = v; return this; }
    public Builder tol(double v) { tol = v; return this; }
    public Builder aggregationDepth(int v) { aggregationDepth = v; return this; }
    public Builder metricsInterval(int v) { metricsInterval = v; return this; }
    public Builder checkpointInterval(int v) { checkpointInterval = v; return this; }
    public Builder checkpointDir(String v) { checkpointDir = v == null ? "" : v; return this; }
    public Builder device(DevicePreference v) { device = v; return this; }
    public Builder stepEngine(String v) { stepEngine = v; return this; }
    public Builder listeners(List<TrainingListener> v) { listeners = v; return this; }
    public Builder fingerprint(String v) { fingerprint = v; return this; }

    public TrainingPlan build() {
      return new TrainingPlan(numEpochs, batchSize, seed, tol, aggregationDepth, metricsInterval,
          checkpointInterval, checkpointDir, device, stepEngine, List.copyOf(listeners), fingerprint);
    }
  }
}
