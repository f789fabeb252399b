package org.efcp.optim.gpu;

import org.efcp.optim.CompressedVector;
import org.efcp.optim.PipelineState;

/**
 * What a GPU pipeline's window (and its error buffer ξ, where the method has one) contributes to a
 * {@link PipelineState}: the Top-k window with ξ ({@link GpuErrorFeedbackTopK}), the float32 window
 * ({@link GpuDenseWindow}) or the low-rank factors with ξ and the warm starts ({@link GpuLowRankMfacPipeline}). The
 * pipelines' bases move K and the ring position themselves.
 */
interface DeviceWindowState {
  /** A host copy of window slot {@code slot}, in the CPU window's form; the pipeline's stream is idle. */
  CompressedVector stored(int slot);

  /** A host copy of ξ, or null without error feedback; the pipeline's stream is idle. */
  double[] exportError();

  /** The low-rank warm starts (see {@link PipelineState#warmStart()}), or null for the other methods. */
  default double[][] exportWarmStart() {
    return null;
  }

  /**
   * Checks this window's parts of {@code imported} (ξ where there is one, the vectors in {@code slots}, warm starts),
   * throwing IllegalArgumentException "state: ..." before the device is touched, then uploads them.
   */
  void importWindow(PipelineState imported, CompressedVector[] slots);
}
