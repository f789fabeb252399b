package org.efcp.cli;

import org.efcp.optim.CompressedVector;
import org.efcp.optim.DirectionPipeline;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.Preconditioner;

/** The production {@link DirectionStepper}: a {@link DirectionPipeline} built from the configuration. */
final class PipelineStepper implements DirectionStepper {
  private final DirectionPipeline pipeline;

  private PipelineStepper(DirectionPipeline pipeline) {
    this.pipeline = pipeline;
  }

  static DirectionStepper create(OptimizerConfig config) {
    return new PipelineStepper(DirectionPipeline.create(config));
  }

  @Override
  public void direction(double[] g, double[] uOut) {
    pipeline.direction(g, uOut);
  }

  @Override
  public CompressedVector lastCompressed() {
    return pipeline.lastCompressed();
  }

  @Override
  public long memoryBytes() {
    return pipeline.memoryBytes();
  }

  @Override
  public Preconditioner preconditioner() {
    return pipeline.preconditioner();
  }
}
