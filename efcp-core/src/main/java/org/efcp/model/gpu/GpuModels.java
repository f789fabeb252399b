package org.efcp.model.gpu;

import org.efcp.cuda.GpuContext;
import org.efcp.model.DifferentiableModel;
import org.efcp.model.MultinomialLogisticRegression;

/** Builds the {@link GpuModel} of a CPU {@link DifferentiableModel}, for the models that have one. */
public final class GpuModels {
  private GpuModels() {
  }

  /** Whether {@code model} has a GPU implementation. */
  public static boolean supports(DifferentiableModel model) {
    return model instanceof MultinomialLogisticRegression;
  }

  /**
   * The GPU form of {@code model} on {@code context}.
   *
   * @throws IllegalArgumentException if the model has no GPU implementation (message names its class)
   */
  public static GpuModel create(GpuContext context, DifferentiableModel model) {
    if (model instanceof MultinomialLogisticRegression lr) {
      return new GpuMultinomialLogisticRegression(context, lr.numFeatures(), lr.numClasses(), lr.fitIntercept());
    }
    throw new IllegalArgumentException("model: " + model.getClass().getSimpleName() + " has no GPU implementation");
  }
}
