package org.efcp.ml.train;

/**
 * How the driver gets each step's mini-batch gradient from the partitions: by one Spark job per step
 * ({@link JobStepEngine}) or from long-lived tasks that stream their shares
 * ({@link org.efcp.ml.train.stream.StreamStepEngine}). Either way the result is the fixed-order sum of the same
 * {@link PartitionShare}s, so both engines train the same model. Closing releases every thread, port, broadcast
 * and task the engine holds, after a successful fit or a failed one.
 */
public interface StepEngine extends AutoCloseable {

  /** "jobs" or "stream". */
  String name();

  /**
   * The complete sum over all partitions of their shares of mini-batch {@code step} of {@code epoch} at θ.
   *
   * @param theta the weights as shipped (float32)
   * @param globalStep number of this exchange in the fit, counted from 0, increasing by 1 per call
   * @throws IllegalStateException when the partitions cannot deliver (the cause says why)
   */
  StepGradient gradient(float[] theta, int epoch, long step, long globalStep);

  @Override
  void close();

  /**
   * A step's summed gradient and where the time went.
   *
   * @param sum the complete sum
   * @param shipMillis driver time to ship θ (broadcast, or encode and write), ms
   * @param gatherMillis from shipped θ to the complete sum on the driver, ms
   */
  record StepGradient(GradientPartial sum, double shipMillis, double gatherMillis) {}
}
