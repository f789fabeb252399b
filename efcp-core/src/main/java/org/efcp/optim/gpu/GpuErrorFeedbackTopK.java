package org.efcp.optim.gpu;

import java.util.function.LongFunction;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuStream;
import org.efcp.cuda.Kernel;
import org.efcp.cuda.KernelModule;

/**
 * Error feedback and exact Top-k on the device (kernels {@code topk.cu}, launched as {@link GpuSparseMfacPipeline}
 * launches them): a = ξ + g in float64, the k largest |a_i| (radix select, ties to the lower index) written in
 * ascending index order with float32 values into one row of a sparse window, ξ = a − c. The selection, the window
 * row and ξ are bitwise the CPU's {@code ErrorFeedback} ∘ {@code TopKCompressor}. Also sets the selection's support
 * bits and float64 values (the dots kernel reads them; the combination kernel clears them).
 */
final class GpuErrorFeedbackTopK {
  private static final int THREADS = 256;
  /** Keys per block of the Top-k kernels (TOPK_CHUNK in topk.cu). */
  private static final int TOPK_CHUNK = 4096;
  private static final int HISTOGRAM_BINS = 2048;
  /** Radix-select passes after the fused first one (bits 62..52): {shift, width}. */
  private static final int[][] LATER_PASSES = {{41, 11}, {30, 11}, {19, 11}, {8, 11}, {0, 8}};

  private final int d;
  private final int k;
  private final int blocks;
  private final Kernel efHist;
  private final Kernel hist;
  private final Kernel count;
  private final Kernel write;
  /** ξ (and a during a step), d doubles. */
  private final DeviceBuffer error;
  private final DeviceBuffer histogram;
  private final DeviceBuffer state;
  private final DeviceBuffer blockCounts;

  /**
   * Loads the kernels and allocates ξ and the select state through {@code allocate}; the caller zeroes them before
   * the first {@link #select}.
   *
   * @param d the gradient length, ≥ 1
   * @param k the entries kept, 1 ≤ k ≤ d (checked by the caller)
   */
  GpuErrorFeedbackTopK(GpuContext context, int d, int k, LongFunction<DeviceBuffer> allocate) {
    this.d = d;
    this.k = k;
    this.blocks = (int) ((d + (long) TOPK_CHUNK - 1) / TOPK_CHUNK);
    KernelModule topk = context.module("topk");
    this.efHist = topk.kernel("topk_ef_hist");
    this.hist = topk.kernel("topk_hist");
    this.count = topk.kernel("topk_count");
    this.write = topk.kernel("topk_write");
    this.error = allocate.apply(8L * d);
    this.histogram = allocate.apply(4L * HISTOGRAM_BINS);
    this.state = allocate.apply(8L * 4);
    this.blockCounts = allocate.apply(8L * blocks);
  }

  /**
   * Queues one step: ξ ← ξ + g, then the selection into row {@code slot} of the window (k int32 indices, k float32
   * values), ξ ← a − c, and the support bits and values of c.
   */
  void select(GpuStream stream, DeviceBuffer g, DeviceBuffer windowIndices, DeviceBuffer windowValues, int slot,
      DeviceBuffer supportBits, DeviceBuffer supportValues) {
    efHist.launch(stream, blocks, 1, THREADS, 1, 0, error, g, d, histogram, state, k);
    for (int[] pass : LATER_PASSES) {
      hist.launch(stream, blocks, 1, THREADS, 1, 0, error, d, histogram, state, pass[0], pass[1]);
    }
    count.launch(stream, blocks, 1, THREADS, 1, 0, error, d, state, blockCounts);
    write.launch(stream, blocks, 1, THREADS, 1, 0, error, d, state, blockCounts, windowIndices,
        windowValues, k, slot, supportBits, supportValues);
  }

  /** ξ, d doubles on the device. */
  DeviceBuffer error() {
    return error;
  }
}
