package org.efcp.cuda;

/**
 * What {@link CudaProbe} found.
 *
 * @param available true when the driver API initialised and at least one device exists
 * @param deviceCount number of CUDA devices (0 when unavailable)
 * @param firstDeviceName name of device 0 (empty when unavailable)
 * @param driverVersion CUDA driver API version, e.g. 13000 for CUDA 13.0 (0 when unavailable)
 * @param reason why CUDA is unavailable (empty when available)
 */
public record CudaAvailability(boolean available, int deviceCount, String firstDeviceName, int driverVersion,
    String reason) {

  static CudaAvailability unavailable(String reason) {
    return new CudaAvailability(false, 0, "", 0, reason);
  }
}
