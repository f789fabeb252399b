package org.efcp.optim.gpu;

import org.efcp.cuda.CudaAvailability;
import org.efcp.cuda.CudaProbe;
import org.efcp.cuda.DevicePreference;
import org.efcp.optim.Method;

/**
 * Where an optimizer's direction pipeline runs, decided once from the user's {@code device} preference, the method
 * and what {@link CudaProbe} found: {@code cpu} always means the CPU; {@code auto} means the GPU when CUDA works and
 * the method has a GPU pipeline ({@link GpuPipelines}), else the CPU; {@code gpu} means the GPU or a clear error.
 *
 * @param gpu whether to run on the GPU (device 0 of this process)
 * @param reason why this choice, for the one log line that reports it
 */
public record OptimizerDevice(boolean gpu, String reason) {

  /** The choice for {@code preference} and {@code method} on this machine. */
  public static OptimizerDevice choose(DevicePreference preference, Method method) {
    return choose(preference, method, preference == DevicePreference.CPU ? null : CudaProbe.availability());
  }

  /**
   * The choice against a given probe result ({@code cuda} may be null for {@link DevicePreference#CPU}).
   *
   * @throws IllegalArgumentException for {@code gpu} with a method that has no GPU pipeline (names the method)
   * @throws IllegalStateException for {@code gpu} when CUDA is not available (gives the reason)
   */
  public static OptimizerDevice choose(DevicePreference preference, Method method, CudaAvailability cuda) {
    if (preference == DevicePreference.CPU) {
      return new OptimizerDevice(false, "device=cpu");
    }
    if (!GpuPipelines.supports(method)) {
      if (preference == DevicePreference.GPU) {
        throw new IllegalArgumentException("device: gpu is not available for method " + method
            + " (GPU pipelines exist for " + GpuPipelines.supportedMethods() + "); use auto or cpu");
      }
      return new OptimizerDevice(false, "method " + method + " has no GPU pipeline");
    }
    if (preference == DevicePreference.GPU && !cuda.available()) {
      throw new IllegalStateException("device: gpu requested but CUDA is not available: " + cuda.reason());
    }
    if (!cuda.available()) {
      return new OptimizerDevice(false, "CUDA is not available (" + cuda.reason() + ")");
    }
    return new OptimizerDevice(true, "GPU 0: " + cuda.firstDeviceName());
  }

  /** "gpu" or "cpu". */
  public String label() {
    return gpu ? "gpu" : "cpu";
  }
}
