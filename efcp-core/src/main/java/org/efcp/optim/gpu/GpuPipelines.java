package org.efcp.optim.gpu;

import org.efcp.cuda.GpuContext;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;

/**
 * Builds the GPU {@link GpuDirectionPipeline} of an {@link OptimizerConfig}. Every method has one; some sizes do not
 * fit the kernels ({@link #obstacle}).
 */
public final class GpuPipelines {
  private GpuPipelines() {
  }

  /**
   * Why {@code method} with window {@code window} (0 = the method's default) and low-rank {@code rank} cannot run on
   * the GPU, or null when it can: the one-block GGT eigen step takes m ≤ {@value GpuGgtPipeline#MAX_WINDOW}, the
   * dense and low-rank M-FAC Cholesky step m ≤ 4096, the low-rank compressor rank ≤
   * {@value GpuLowRankMfacPipeline#MAX_RANK}.
   */
  public static String obstacle(Method method, int window, int rank) {
    int m = window > 0 ? window : method.defaultWindow();
    return switch (method) {
      case DENSE_GGT, SPARSE_GGT -> m > GpuGgtPipeline.MAX_WINDOW
          ? "the GPU GGT eigen step takes m <= " + GpuGgtPipeline.MAX_WINDOW + ", got m = " + m : null;
      case DENSE_MFAC -> m > GpuMfacCholeskyState.MAX_WINDOW
          ? "the GPU M-FAC Cholesky step takes m <= " + GpuMfacCholeskyState.MAX_WINDOW + ", got m = " + m : null;
      case LOWRANK_MFAC -> m > GpuMfacCholeskyState.MAX_WINDOW
          ? "the GPU M-FAC Cholesky step takes m <= " + GpuMfacCholeskyState.MAX_WINDOW + ", got m = " + m
          : rank > GpuLowRankMfacPipeline.MAX_RANK
              ? "the GPU low-rank compressor takes rank <= " + GpuLowRankMfacPipeline.MAX_RANK + ", got " + rank
              : null;
      case SPARSE_MFAC -> m > GpuMfacState.MAX_WINDOW
          ? "the GPU sparse M-FAC state takes m <= " + GpuMfacState.MAX_WINDOW + ", got m = " + m : null;
      case ADAGRAD_EF, SGD -> null;
    };
  }

  /** {@link #obstacle(Method, int, int)} of a configuration. */
  public static String obstacle(OptimizerConfig config) {
    return obstacle(config.method(), config.window(), config.rank());
  }

  /**
   * A fresh GPU pipeline for {@code config} on {@code context} (empty window, zero error buffer).
   *
   * @throws IllegalArgumentException if the pipeline rejects the configuration ({@link #obstacle}), before the device
   *     is touched
   */
  public static GpuDirectionPipeline create(GpuContext context, OptimizerConfig config) {
    return switch (config.method()) {
      case SPARSE_MFAC -> new GpuSparseMfacPipeline(context, config.dimension(), config.window(), config.topK(),
          config.damping());
      case DENSE_MFAC -> new GpuDenseMfacPipeline(context, config.dimension(), config.window(), config.damping());
      case LOWRANK_MFAC -> new GpuLowRankMfacPipeline(context, config.layout(), config.window(), config.rank(),
          config.seed(), config.damping());
      case DENSE_GGT -> new GpuDenseGgtPipeline(context, config.dimension(), config.window(), config.ggtEpsilon(),
          config.ridge());
      case SPARSE_GGT -> new GpuSparseGgtPipeline(context, config.dimension(), config.window(), config.topK(),
          config.ggtEpsilon(), config.ridge());
      case ADAGRAD_EF -> new GpuAdagradEfPipeline(context, config.dimension(), config.topK(),
          config.adagradEpsilon());
      case SGD -> new GpuSgdPipeline(context, config.dimension());
    };
  }
}
