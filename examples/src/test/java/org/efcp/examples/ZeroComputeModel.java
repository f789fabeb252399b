package org.efcp.examples;

import org.efcp.model.DenseBlock;
import org.efcp.model.DifferentiableModel;
import org.efcp.optim.TensorLayout;

/**
 * A model of d parameters whose gradient costs nothing: {@link #addLossAndGradient} leaves the gradient at 0
 * and returns loss 0, so a fit with it measures only what a step engine adds around the compute (shipping d
 * weights, summing d-float gradient shares, scheduling).
 */
final class ZeroComputeModel implements DifferentiableModel {
  private static final long serialVersionUID = 1L;

  private final int numFeatures;
  private final int numClasses;
  private final int numParameters;

  ZeroComputeModel(int numFeatures, int numClasses, int numParameters) {
    this.numFeatures = numFeatures;
    this.numClasses = numClasses;
    this.numParameters = numParameters;
  }

  @Override
  public int numFeatures() {
    return numFeatures;
  }

  @Override
  public int numClasses() {
    return numClasses;
  }

  @Override
  public int numParameters() {
    return numParameters;
  }

  @Override
  public TensorLayout layout() {
    return TensorLayout.flat(numParameters);
  }

  @Override
  public double[] initialParameters(long seed) {
    return new double[numParameters];
  }

  @Override
  public double addLossAndGradient(DenseBlock block, double[] params, double[] gradAccum) {
    return 0;
  }

  @Override
  public double loss(DenseBlock block, double[] params) {
    return 0;
  }

  @Override
  public void predictRaw(DenseBlock block, double[] params, double[] out) {
    throw new UnsupportedOperationException("ZeroComputeModel only times training steps");
  }

  @Override
  public void predictProbabilities(DenseBlock block, double[] params, double[] out) {
    throw new UnsupportedOperationException("ZeroComputeModel only times training steps");
  }
}
