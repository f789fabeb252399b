package org.efcp.model;

import dev.ludovic.netlib.blas.BLAS;

/**
 * The row-chunk loop and argument checks shared by the models: a block is processed in chunks of at most
 * {@link #DEFAULT_CHUNK_ROWS} rows, because single GEMMs of a few thousand rows fall off a performance cliff in
 * the Java BLAS and smaller chunks keep the per-instance scratch small. Per-row losses are summed per chunk,
 * then chunk sums in order.
 */
abstract class ChunkedModel implements DifferentiableModel {
  private static final long serialVersionUID = 1L;

  /** The largest number of rows one BLAS call covers. */
  static final int DEFAULT_CHUNK_ROWS = 1024;

  static final BLAS BLAS_LIB = BLAS.getInstance();

  private final int chunkRows;

  ChunkedModel(int chunkRows) {
    if (chunkRows < 1) {
      throw new IllegalArgumentException("chunkRows: must be >= 1, got " + chunkRows);
    }
    this.chunkRows = chunkRows;
  }

  /**
   * Rows {@code [from, from + rows)}: returns Σ w_i ℓ_i over them and, when {@code gradAccum} is not null, adds
   * Σ w_i ∇ℓ_i into it.
   */
  abstract double chunkLoss(DenseBlock block, int from, int rows, double[] params, double[] gradAccum);

  /** Writes the raw scores of rows {@code [from, from + rows)} into {@code out} at row {@code from}. */
  abstract void chunkRaw(DenseBlock block, int from, int rows, double[] params, double[] out);

  /** Turns the first {@code rows} rows of raw scores in {@code values} into probabilities, in place. */
  abstract void rawToProbabilities(double[] values, int rows);

  @Override
  public final double addLossAndGradient(DenseBlock block, double[] params, double[] gradAccum) {
    checkCall(block, params);
    checkLength("gradAccum", gradAccum, numParameters());
    return sumChunks(block, params, gradAccum);
  }

  @Override
  public final double loss(DenseBlock block, double[] params) {
    checkCall(block, params);
    return sumChunks(block, params, null);
  }

  @Override
  public final void predictRaw(DenseBlock block, double[] params, double[] out) {
    checkCall(block, params);
    checkLength("out", out, block.numRows() * numClasses());
    int n = block.numRows();
    for (int from = 0; from < n; from += chunkRows) {
      chunkRaw(block, from, Math.min(chunkRows, n - from), params, out);
    }
  }

  @Override
  public final void predictProbabilities(DenseBlock block, double[] params, double[] out) {
    predictRaw(block, params, out);
    rawToProbabilities(out, block.numRows());
  }

  private double sumChunks(DenseBlock block, double[] params, double[] gradAccum) {
    int n = block.numRows();
    double loss = 0;
    for (int from = 0; from < n; from += chunkRows) {
      loss += chunkLoss(block, from, Math.min(chunkRows, n - from), params, gradAccum);
    }
    return loss;
  }

  private void checkCall(DenseBlock block, double[] params) {
    if (block.numFeatures() != numFeatures()) {
      throw new IllegalArgumentException(
          "features: expected " + numFeatures() + " columns, got " + block.numFeatures());
    }
    checkLength("params", params, numParameters());
  }

  private static void checkLength(String name, double[] array, int expected) {
    if (array.length != expected) {
      throw new IllegalArgumentException(name + ": expected " + expected + " values, got " + array.length);
    }
  }

  /** Chunk capacity for a block of {@code n} rows. */
  final int chunkCapacity(int n) {
    return Math.max(1, Math.min(chunkRows, n));
  }
}
