package org.efcp.optim.gpu;

import org.efcp.cuda.GpuContext;
import org.efcp.optim.CompressedVector;
import org.efcp.optim.Method;
import org.efcp.optim.PipelineState;

/**
 * What the GPU pipelines over a window of the last m compressed vectors (M-FAC: {@link GpuMfacPipelineBase}, GGT:
 * {@link GpuGgtPipeline}) share beyond {@link GpuPipelineBase}: the window size and the move of their state, which is
 * the window's parts ({@link DeviceWindowState}: slots, ξ, warm starts) plus K and the ring position. The subclass
 * says where K lives ({@link #downloadGram}, {@link #restoreGram}).
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

  /** A host copy of K (m×m row-major by slot); waits for queued work. */
  abstract double[] downloadGram();

  /**
   * Makes this unused pipeline's K {@code gram} (checked) and its ring stand after {@code steps} steps, rebuilding
   * whatever derives from K; the window's parts are already uploaded.
   */
  abstract void restoreGram(double[] gram, long steps);

  /** ξ, the window's min(steps, m) slots, K and the warm starts of low-rank; waits for queued work. */
  @Override
  public final PipelineState exportState() {
    checkOpen();
    double[] gram = downloadGram();
    DeviceWindowState window = windowState();
    long steps = stepCount();
    CompressedVector[] slots = new CompressedVector[(int) Math.min(steps, m)];
    for (int s = 0; s < slots.length; s++) {
      slots[s] = window.stored(s);
    }
    return new PipelineState(method(), steps, window.exportError(), slots, gram, null, window.exportWarmStart());
  }

  /**
   * Checks {@code imported} whole, then uploads the window's parts ({@link DeviceWindowState#importWindow}) and K
   * ({@link #restoreGram}).
   */
  @Override
  public final void importState(PipelineState imported) {
    checkImport(imported, method());
    double[] gram = statePart(imported.gram(), "gram", (long) m * m);
    windowState().importWindow(imported, stateSlots(imported));
    restoreGram(gram, imported.steps());
  }

  /**
   * The window slots of an imported state: min(steps, m) of them.
   *
   * @throws IllegalArgumentException "state: ..." when they are missing or their number is wrong
   */
  private CompressedVector[] stateSlots(PipelineState state) {
    CompressedVector[] slots = state.slots();
    if (slots == null) {
      throw new IllegalArgumentException("state: has no slots");
    }
    long expected = Math.min(state.steps(), m);
    if (slots.length != expected) {
      throw new IllegalArgumentException("state: " + state.steps() + " steps fill " + expected + " slots, got "
          + slots.length + " vectors");
    }
    for (int s = 0; s < slots.length; s++) {
      if (slots[s] == null) {
        throw new IllegalArgumentException("state: slot " + s + " is null");
      }
    }
    return slots;
  }
}
