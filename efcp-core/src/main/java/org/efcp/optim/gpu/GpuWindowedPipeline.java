package org.efcp.optim.gpu;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.optim.CompressedVector;
import org.efcp.optim.Method;
import org.efcp.optim.PipelineState;

/**
 * What the GPU pipelines over a window of the last m compressed vectors (M-FAC: {@link GpuMfacPipelineBase}, GGT:
 * {@link GpuGgtPipeline}) share beyond {@link GpuPipelineBase}: the window size and the move of their state, which is
 * the window's parts ({@link DeviceWindowState}: slots, ξ, warm starts) plus K and the ring position. The subclass
 * says where K and the ring live ({@link #gram()}, {@link #ring()}) and what it derives from K after an import
 * ({@link #rebuildFromGram()}).
 */
abstract class GpuWindowedPipeline extends GpuPipelineBase {
  final int m;

  /** Stores validated arguments; touches no device. */
  GpuWindowedPipeline(GpuContext context, int d, int m) {
    super(context, d);
    this.m = m;
  }

  /** m, the window size. */
  public int window() {
    return m;
  }

  /** The method this pipeline runs. */
  abstract Method method();

  /** The window (and ξ) whose state {@link #exportState} and {@link #importState} move. */
  abstract DeviceWindowState windowState();

  /** K, m×m float64 row-major by slot, on the device. */
  abstract DeviceBuffer gram();

  /** The window's ring position (steps taken, the slot the next step writes). */
  abstract RingPosition ring();

  /** Recomputes what derives from K once an import has uploaded it (the stream is idle). */
  abstract void rebuildFromGram();

  @Override
  public final long stepCount() {
    return ring().steps();
  }

  /** ξ, the window's min(steps, m) slots, K and the warm starts of low-rank; waits for queued work. */
  @Override
  public final PipelineState exportState() {
    checkOpen();
    stream.synchronize();
    double[] gram = new double[m * m];
    gram().copyTo(gram, 0, m * m, 0);
    DeviceWindowState window = windowState();
    long steps = stepCount();
    CompressedVector[] slots = new CompressedVector[(int) Math.min(steps, m)];
    for (int s = 0; s < slots.length; s++) {
      slots[s] = window.stored(s);
    }
    return new PipelineState(method(), steps, window.exportError(), slots, gram, null, window.exportWarmStart());
  }

  /**
   * Checks {@code imported} whole, then uploads the window's parts ({@link DeviceWindowState#importWindow}) and K,
   * moves the ring to its steps and rebuilds what derives from K ({@link #rebuildFromGram()}).
   */
  @Override
  public final void importState(PipelineState imported) {
    checkImport(imported, method());
    double[] gram = statePart(imported.gram(), "gram", (long) m * m);
    windowState().importWindow(imported, imported.windowSlots(m));
    stream.synchronize();
    gram().copyFrom(gram, 0, m * m, 0);
    ring().restore(imported.steps());
    rebuildFromGram();
  }
}
