package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.KernelGrid.THREADS;

import java.util.function.LongFunction;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuStream;
import org.efcp.cuda.Kernel;
import org.efcp.cuda.KernelModule;
import org.efcp.optim.CompressedVector;
import org.efcp.optim.PipelineState;
import org.efcp.optim.SparseVector;

/**
 * Error feedback and exact Top-k on the device into a sparse window, for sparse M-FAC ({@link GpuSparseMfacPipeline})
 * and sparse GGT ({@link GpuSparseGgtPipeline}): a = ξ + g in float64, the k largest |a_i| (radix select, ties to the
 * lower index) written in ascending index order with float32 values into one slot of the window (m slots of k int32
 * indices and k float32 values), ξ = a − c (kernels {@code topk.cu}). The selection, the window row and ξ are
 * bitwise the CPU's {@code ErrorFeedback} ∘ {@code TopKCompressor}. Also sets the selection's support bits and
 * float64 values (the dots kernels read them; the combination kernels clear them).
 */
final class GpuErrorFeedbackTopK implements DeviceWindowState {
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
  private final DeviceBuffer windowIndices;
  private final DeviceBuffer windowValues;
  private final DeviceBuffer supportBits;
  private final DeviceBuffer supportValues;

  /**
   * Loads the kernels and allocates ξ, the select state, the window and the support through {@code allocate}; the
   * caller zeroes them before the first {@link #select}.
   *
   * @param d the gradient length, ≥ 1
   * @param m the window size (slots), ≥ 1
   * @param k the entries kept, 1 ≤ k ≤ d (checked by the caller)
   */
  /**
   * Checks a gradient length and a selection size.
   *
   * @throws IllegalArgumentException "d: …" when d &lt; 1, "k: …" when k is outside [1, d]
   */
  static void checkShape(int d, int k) {
    if (d < 1) {
      throw new IllegalArgumentException("d: must be >= 1, got " + d);
    }
    if (k < 1 || k > d) {
      throw new IllegalArgumentException("k: must be in [1, d = " + d + "], got " + k);
    }
  }

  GpuErrorFeedbackTopK(GpuContext context, int d, int m, int k, LongFunction<DeviceBuffer> allocate) {
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
    this.windowIndices = allocate.apply(4L * m * k);
    this.windowValues = allocate.apply(4L * m * k);
    this.supportBits = allocate.apply(4L * ((d + 31L) / 32));
    this.supportValues = allocate.apply(8L * d);
  }

  /**
   * Queues one step: ξ ← ξ + g, then the selection into window slot {@code slot}, ξ ← a − c, and the support bits
   * and values of c.
   */
  void select(GpuStream stream, DeviceBuffer g, int slot) {
    efHist.launch(stream, blocks, 1, THREADS, 1, 0, error, g, d, histogram, state, k);
    for (int[] pass : LATER_PASSES) {
      hist.launch(stream, blocks, 1, THREADS, 1, 0, error, d, histogram, state, pass[0], pass[1]);
    }
    count.launch(stream, blocks, 1, THREADS, 1, 0, error, d, state, blockCounts);
    write.launch(stream, blocks, 1, THREADS, 1, 0, error, d, state, blockCounts, windowIndices,
        windowValues, k, slot, supportBits, supportValues);
  }

  /** k, the entries kept per step. */
  int k() {
    return k;
  }

  /** The window's indices, m × k int32 (slot-major, each slot ascending). */
  DeviceBuffer windowIndices() {
    return windowIndices;
  }

  /** The window's float32 values, m × k, in the order of {@link #windowIndices()}. */
  DeviceBuffer windowValues() {
    return windowValues;
  }

  /** One bit per coordinate: set on the support of the last selection until the combination clears it. */
  DeviceBuffer supportBits() {
    return supportBits;
  }

  /** The last selection's values as float64 on its support, d doubles. */
  DeviceBuffer supportValues() {
    return supportValues;
  }

  /** The indices written into {@code slot} (k, ascending); downloads them (waits for the step). */
  int[] indices(int slot) {
    int[] out = new int[k];
    windowIndices.copyTo(out, 0, k, 4L * slot * k);
    return out;
  }

  /** The float32 values written into {@code slot}, in the order of {@link #indices}; downloads them. */
  float[] values(int slot) {
    float[] out = new float[k];
    windowValues.copyTo(out, 0, k, 4L * slot * k);
    return out;
  }

  /** Window slot {@code slot} as the CPU's window stores it; downloads it (waits for the step). */
  @Override
  public SparseVector stored(int slot) {
    return new SparseVector(d, indices(slot), values(slot));
  }

  /**
   * The vectors of an imported window, each a {@link SparseVector} of dimension d with exactly k entries (what the
   * selection writes).
   *
   * @throws IllegalArgumentException "state: slot s ..." otherwise
   */
  SparseVector[] checkSlots(CompressedVector[] slots) {
    SparseVector[] out = new SparseVector[slots.length];
    for (int s = 0; s < slots.length; s++) {
      if (!(slots[s] instanceof SparseVector v) || v.dimension() != d || v.nnz() != k) {
        throw new IllegalArgumentException("state: slot " + s + " must be a sparse vector of dimension " + d
            + " with k = " + k + " entries, got " + describe(slots[s]));
      }
      out[s] = v;
    }
    return out;
  }

  private static String describe(CompressedVector v) {
    return v instanceof SparseVector sv ? "dimension " + sv.dimension() + " with " + sv.nnz() + " entries"
        : v.getClass().getSimpleName() + " of dimension " + v.dimension();
  }

  @Override
  public double[] exportError() {
    return error();
  }

  /** ξ and the Top-k slots. */
  @Override
  public void importWindow(PipelineState imported, CompressedVector[] slots) {
    double[] xi = GpuPipelineBase.statePart(imported.error(), "error", d);
    upload(xi, checkSlots(slots));
  }

  /** Uploads ξ (d doubles) and the window's first {@code slots.length} slots (checked by {@link #checkSlots}). */
  void upload(double[] xi, SparseVector[] slots) {
    error.copyFrom(xi, 0, d, 0);
    for (int s = 0; s < slots.length; s++) {
      windowIndices.copyFrom(slots[s].indices(), 0, k, 4L * s * k);
      windowValues.copyFrom(slots[s].values(), 0, k, 4L * s * k);
    }
  }

  /** ξ after the last step; downloads it (waits for the step). */
  double[] error() {
    double[] out = new double[d];
    error.copyTo(out, 0, d, 0);
    return out;
  }
}
