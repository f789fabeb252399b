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
}
