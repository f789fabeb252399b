package org.efcp.optim.gpu;

import java.util.EnumSet;
import java.util.Set;

import org.efcp.cuda.GpuContext;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;

/** Builds the GPU {@link GpuDirectionPipeline} of an {@link OptimizerConfig}, for the methods that have one. */
public final class GpuPipelines {
  private static final Set<Method> SUPPORTED = EnumSet.of(Method.SPARSE_MFAC, Method.DENSE_MFAC,
      Method.LOWRANK_MFAC, Method.DENSE_GGT, Method.SPARSE_GGT);

  private GpuPipelines() {
  }

  /** Whether {@code method} has a GPU pipeline. */
  public static boolean supports(Method method) {
    return SUPPORTED.contains(method);
  }

  /** The methods that have a GPU pipeline, in declaration order. */
  public static Set<Method> supportedMethods() {
    return EnumSet.copyOf(SUPPORTED);
  }

  /**
   * A fresh GPU pipeline for {@code config} on {@code context} (empty window, zero error buffer).
   *
   * @throws IllegalArgumentException if the method has no GPU pipeline (message names the method), or the GPU
   *     pipeline rejects the configuration (GGT: m above {@value GpuGgtPipeline#MAX_WINDOW}), before the device is
   *     touched
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
      default -> throw new IllegalArgumentException("method: " + config.method() + " has no GPU pipeline (GPU: "
          + SUPPORTED + ")");
    };
  }
}
