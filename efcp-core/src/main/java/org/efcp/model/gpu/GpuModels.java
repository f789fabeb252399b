package org.efcp.model.gpu;

import org.efcp.cuda.GpuContext;
import org.efcp.model.BinomialLogisticRegression;
import org.efcp.model.DifferentiableModel;
import org.efcp.model.MultilayerPerceptron;
import org.efcp.model.MultinomialLogisticRegression;

/** Builds the {@link GpuModel} of a CPU {@link DifferentiableModel}, for the models that have one. */
public final class GpuModels {
  private GpuModels() {
  }

  /** Whether {@code model} has a GPU implementation. */
  public static boolean supports(DifferentiableModel model) {
    return model instanceof MultinomialLogisticRegression || model instanceof BinomialLogisticRegression
        || model instanceof MultilayerPerceptron;
  }

  /**
   * The fp32 GPU form of {@code model} on {@code context} (results as {@link SgemmPrecision#FP32} gives them).
   *
   * @throws IllegalArgumentException if the model has no GPU implementation (message names its class)
   */
  public static GpuModel create(GpuContext context, DifferentiableModel model) {
    return create(context, model, SgemmPrecision.FP32);
  }

  /**
   * The GPU form of {@code model} on {@code context} whose matrix products run at {@code precision}
   * ({@link SgemmPrecision#TF32} changes the results).
   *
   * @throws IllegalArgumentException if the model has no GPU implementation (message names its class)
   */
  public static GpuModel create(GpuContext context, DifferentiableModel model, SgemmPrecision precision) {
    if (model instanceof MultinomialLogisticRegression lr) {
      return new GpuMultinomialLogisticRegression(context, lr.numFeatures(), lr.numClasses(), lr.fitIntercept(),
          precision);
    }
    if (model instanceof BinomialLogisticRegression lr) {
      return new GpuBinomialLogisticRegression(context, lr.numFeatures(), lr.fitIntercept(), precision);
    }
    if (model instanceof MultilayerPerceptron mlp) {
      return new GpuMultilayerPerceptron(context, mlp.layerSizes(), mlp.activation(), precision);
    }
    throw new IllegalArgumentException("model: " + model.getClass().getSimpleName() + " has no GPU implementation");
  }
}
