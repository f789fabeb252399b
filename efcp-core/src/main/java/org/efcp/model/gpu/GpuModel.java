package org.efcp.model.gpu;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.model.DenseBlock;

/**
 * The loss and gradient of a {@code DifferentiableModel} on one GPU, on blocks uploaded once
 * ({@link #upload}) and kept on the device across steps; built by {@link GpuModels#create}. Same parameter
 * layout and semantics as the CPU model (Σ_i w_i ℓ_i returned, Σ_i w_i ∇ℓ_i added); float32 arithmetic inside,
 * float64 sums. Not thread-safe: one instance per thread.
 */
public interface GpuModel extends AutoCloseable {

  /** d, the length of θ. */
  int numParameters();

  /**
   * Copies {@code block} to the device (features and weights as float32, labels as int32).
   *
   * @throws IllegalArgumentException "features: ..." when its width is wrong, "label: ..." when a label is not a
   *     class index
   */
  GpuBlock upload(DenseBlock block);

  /**
   * Adds Σ_i w_i ∇ℓ_i(θ) into {@code gradAccum} and returns Σ_i w_i ℓ_i(θ); θ is rounded to float32.
   *
   * @param params θ, length d
   * @param gradAccum length d; added to, not overwritten
   */
  double addLossAndGradient(GpuBlock block, double[] params, double[] gradAccum);

  /**
   * The device-resident form: adds Σ_i w_i ∇ℓ_i(θ) into {@code gradAccum} and returns Σ_i w_i ℓ_i(θ), waiting for
   * the device.
   *
   * @param params θ as d float32 values
   * @param gradAccum d float64 values; added to, not overwritten
   */
  double addLossAndGradient(GpuBlock block, DeviceBuffer params, DeviceBuffer gradAccum);

  /** Returns the scratch and the stream; closing twice does nothing. */
  @Override
  void close();
}
