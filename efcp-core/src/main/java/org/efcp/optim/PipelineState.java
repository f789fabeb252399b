package org.efcp.optim;

/**
 * The state of a {@link DirectionPipeline} in a form that neither the CPU nor the GPU owns, for moving an optimizer
 * between them ({@code EfcpOptimizer.toHost()} / {@code toGpu(...)}) and for checkpointing a GPU optimizer. Ring
 * conventions are the windows': step t (from 0) wrote slot {@code t mod m}; empty slots are zero vectors. The arrays
 * are the caller's copies; nothing here is validated until a pipeline imports it.
 *
 * @param method the method whose pipeline holds this state
 * @param steps the steps taken, t
 * @param error the error buffer ξ (d doubles), or null for the methods without error feedback (dense M-FAC, dense
 *     GGT, SGD)
 * @param slots the window's vectors by slot, {@code min(t, m)} of them ({@link SparseVector} with k ascending
 *     indices, {@link Float32Vector}, or {@link LowRankVector}), or null without a window
 * @param gram K = (⟨x_i, x_j⟩), m×m row-major by slot (symmetric), or null without a window
 * @param sumSquares AdaGrad's running sum of squares S (d doubles), or null for the other methods
 * @param warmStart per tensor the low-rank compressor's warm-start Q (cols × rank, row-major; null for 1-D
 *     tensors), or null for the other methods
 */
public record PipelineState(Method method, long steps, double[] error, CompressedVector[] slots, double[] gram,
    double[] sumSquares, double[][] warmStart) {

  /**
   * What every import checks first, on the CPU and on a GPU: the importing pipeline, which runs {@code method}, has
   * taken no step ({@code stepsTaken}), and this state belongs to {@code method} with steps ≥ 0.
   *
   * @throws IllegalStateException if the pipeline has taken a step
   * @throws IllegalArgumentException "state: ..." if this state belongs to another method or its steps are negative
   */
  public void checkImportInto(Method method, long stepsTaken) {
    if (stepsTaken != 0) {
      throw new IllegalStateException("pipeline: can only import into a pipeline that has taken no step, this one "
          + "took " + stepsTaken);
    }
    if (this.method != method) {
      throw new IllegalArgumentException("state: belongs to method " + this.method + ", this pipeline runs "
          + method);
    }
    if (steps < 0) {
      throw new IllegalArgumentException("state: steps must be >= 0, got " + steps);
    }
  }

  /**
   * The window slots this state holds for an m-slot window, checked on import (CPU and GPU pipelines alike): present,
   * min(steps, m) of them, none null.
   *
   * @throws IllegalArgumentException "state: ..." when they are missing, their number is wrong or one is null
   */
  public CompressedVector[] windowSlots(int m) {
    present(slots, "slots");
    long expected = Math.min(steps, m);
    if (slots.length != expected) {
      throw new IllegalArgumentException("state: " + steps + " steps fill " + expected + " slots, got "
          + slots.length + " vectors");
    }
    for (int s = 0; s < slots.length; s++) {
      if (slots[s] == null) {
        throw new IllegalArgumentException("state: slot " + s + " is null");
      }
    }
    return slots;
  }

  /**
   * The low-rank warm starts this state holds for a layout of {@code tensors} tensors, checked on import (CPU and GPU
   * pipelines alike): present, one entry per tensor.
   *
   * @throws IllegalArgumentException "state: ..." when they are missing or their number is wrong
   */
  public double[][] warmStarts(int tensors) {
    present(warmStart, "warmStart");
    if (warmStart.length != tensors) {
      throw new IllegalArgumentException("state: warmStart holds " + warmStart.length + " tensors, the layout has "
          + tensors);
    }
    return warmStart;
  }

  /**
   * {@code part} of an imported state, which the importing pipeline needs (CPU and GPU pipelines alike).
   *
   * @throws IllegalArgumentException "state: has no NAME" when it is null
   */
  public static <T> T present(T part, String name) {
    if (part == null) {
      throw new IllegalArgumentException("state: has no " + name);
    }
    return part;
  }

  /** Checks a restored K of an m-slot window: m·m entries, all finite ("gram: ..."). */
  static void checkGram(double[] gram, int m) {
    if (gram.length != m * m) {
      throw new IllegalArgumentException("gram: length must be m*m = " + m * m + ", got " + gram.length);
    }
    requireFinite(gram, "gram:");
  }

  /**
   * Checks a part of an imported state (CPU and GPU pipelines alike).
   *
   * @throws IllegalArgumentException "LABEL entry i is v" at the first entry of {@code values} that is not finite
   */
  public static void requireFinite(double[] values, String label) {
    for (int i = 0; i < values.length; i++) {
      if (!Double.isFinite(values[i])) {
        throw new IllegalArgumentException(label + " entry " + i + " is " + values[i]);
      }
    }
  }
}
