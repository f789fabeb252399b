package org.efcp.optim.gpu;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.optim.Method;
import org.efcp.optim.PipelineState;

/**
 * Plain SGD's direction on one GPU: u = g, no compression and no preconditioning (the CPU {@code DirectionPipeline}
 * for {@code Method.SGD}), one device-to-device copy per step. It lets a whole {@code device=gpu} run keep its
 * vectors on the device whatever the method. No state.
 */
public final class GpuSgdPipeline extends GpuPipelineBase {
  private long steps;

  /**
   * @param d the gradient length, ≥ 1
   * @throws IllegalArgumentException "d: …" when d &lt; 1 (before the device is touched)
   */
  public GpuSgdPipeline(GpuContext context, int d) {
    super(checkArguments(context, d), d);
    openStream();
  }

  private static GpuContext checkArguments(GpuContext context, int d) {
    if (d < 1) {
      throw new IllegalArgumentException("d: must be >= 1, got " + d);
    }
    return context;
  }

  @Override
  void queueDirection(DeviceBuffer g, DeviceBuffer u) {
    u.copyFromAsync(g, 0, 8L * d, 0, stream);
    steps++;
  }

  @Override
  public long stepCount() {
    return steps;
  }

  /** Nothing but the step count: SGD keeps no state. */
  @Override
  public PipelineState exportState() {
    checkOpen();
    return new PipelineState(Method.SGD, steps, null, null, null, null, null);
  }

  @Override
  public void importState(PipelineState imported) {
    checkImport(imported, Method.SGD);
    steps = imported.steps();
  }
}
