package org.efcp.optim.gpu;

import org.efcp.cuda.CudaAvailability;
import org.efcp.cuda.CudaProbe;
import org.efcp.cuda.DevicePreference;
import org.efcp.optim.Method;

/**
 * Where an optimizer's direction pipeline runs, decided once from the user's {@code device} preference, the method's
 * size ({@link GpuPipelines#obstacle}) and what {@link CudaProbe} found: {@code cpu} always means the CPU;
 * {@code auto} means the GPU when CUDA works and the sizes fit the kernels, else the CPU; {@code gpu} means the GPU
 * or a clear error.
 *
 * @param gpu whether to run on the GPU (device 0 of this process)
 * @param reason why this choice, for the one log line that reports it
 */
public record OptimizerDevice(boolean gpu, String reason) {

  /** The choice for {@code preference} and a method of window {@code window} (0 = default) and rank on this machine. */
  public static OptimizerDevice choose(DevicePreference preference, Method method, int window, int rank) {
    return choose(preference, method, window, rank,
        preference == DevicePreference.CPU ? null : CudaProbe.availability());
  }

  /**
   * The choice against a given probe result ({@code cuda} may be null for {@link DevicePreference#CPU}).
   *
   * @throws IllegalArgumentException for {@code gpu} when the sizes do not fit the GPU kernels (names the method and
   *     why)
   * @throws IllegalStateException for {@code gpu} when CUDA is not available (gives the reason)
   */
  public static OptimizerDevice choose(DevicePreference preference, Method method, int window, int rank,
      CudaAvailability cuda) {
    if (preference == DevicePreference.CPU) {
      return new OptimizerDevice(false, "device=cpu");
    }
    String obstacle = GpuPipelines.obstacle(method, window, rank);
    if (obstacle != null) {
      if (preference == DevicePreference.GPU) {
        throw new IllegalArgumentException("device: gpu cannot run " + method + ": " + obstacle
            + "; use auto or cpu");
      }
      return new OptimizerDevice(false, method + " does not fit the GPU: " + obstacle);
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
