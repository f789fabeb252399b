package org.efcp.cuda;

import java.util.Locale;

/** Where the user wants the computation to run: {@code auto} (GPU when available), {@code cpu} or {@code gpu}. */
public enum DevicePreference {
  AUTO, CPU, GPU;

  /**
   * Parses "auto", "cpu" or "gpu" (case-insensitive, surrounding blanks ignored).
   *
   * @throws IllegalArgumentException "device: unknown 'x' (expected auto, cpu or gpu)" for anything else
   */
  public static DevicePreference parse(String value) {
    String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
    return switch (v) {
      case "auto" -> AUTO;
      case "cpu" -> CPU;
      case "gpu" -> GPU;
      default -> throw new IllegalArgumentException("device: unknown '" + value + "' (expected auto, cpu or gpu)");
    };
  }

  /**
   * Whether to use the GPU: AUTO → whether {@link CudaProbe} found CUDA; CPU → false; GPU → true, or
   * {@link IllegalStateException} "device: gpu requested but CUDA is not available: reason" when it is not.
   */
  public boolean useGpu() {
    return useGpu(CudaProbe.availability());
  }

  /** {@link #useGpu()} against a given probe result. */
  boolean useGpu(CudaAvailability a) {
    return switch (this) {
      case CPU -> false;
      case AUTO -> a.available();
      case GPU -> {
        if (!a.available()) {
          throw new IllegalStateException("device: gpu requested but CUDA is not available: " + a.reason());
        }
        yield true;
      }
    };
  }
}
