package org.efcp.cuda;

import java.lang.System.Logger.Level;

import jcuda.driver.CUdevice;
import jcuda.driver.JCudaDriver;

/**
 * Finds out, once per JVM, whether the CUDA driver API is usable here. JCuda's driver library needs
 * {@code libcuda.so.1}; on a machine without an NVIDIA driver its first touch throws
 * {@link UnsatisfiedLinkError} and every later touch {@link NoClassDefFoundError}, so the probe catches
 * {@link Throwable} and reports "no GPU" with the reason, logging exactly one line either way.
 *
 * <p>Minimum driver: R580 (CUDA 13), because the project's kernels are compiled by nvcc 13 (PTX ISA 9.0).
 */
public final class CudaProbe {
  private static final System.Logger LOG = System.getLogger(CudaProbe.class.getName());
  private static volatile CudaAvailability cached;

  private CudaProbe() {}

  /** The availability of CUDA in this JVM, probed on the first call and remembered. */
  public static CudaAvailability availability() {
    CudaAvailability a = cached;
    if (a == null) {
      synchronized (CudaProbe.class) {
        a = cached;
        if (a == null) {
          a = probe();
          LOG.log(Level.INFO, a.available()
              ? "CUDA available: " + a.deviceCount() + " device(s), first: " + a.firstDeviceName()
                  + ", driver " + a.driverVersion()
              : "CUDA not available, using the CPU backend: " + a.reason());
          cached = a;
        }
      }
    }
    return a;
  }

  private static CudaAvailability probe() {
    try {
      JCudaDriver.setExceptionsEnabled(true);
      JCudaDriver.cuInit(0);
      int[] count = {0};
      JCudaDriver.cuDeviceGetCount(count);
      if (count[0] == 0) {
        return CudaAvailability.unavailable("the CUDA driver reports no devices");
      }
      int[] version = {0};
      JCudaDriver.cuDriverGetVersion(version);
      CUdevice device = new CUdevice();
      JCudaDriver.cuDeviceGet(device, 0);
      byte[] name = new byte[256];
      JCudaDriver.cuDeviceGetName(name, name.length, device);
      int len = 0;
      while (len < name.length && name[len] != 0) {
        len++;
      }
      return new CudaAvailability(true, count[0], new String(name, 0, len, java.nio.charset.StandardCharsets.US_ASCII),
          version[0], "");
    } catch (Throwable t) {
      // No driver (UnsatisfiedLinkError), a broken install (NoClassDefFoundError) or a CUDA error.
      return CudaAvailability.unavailable(reason(t));
    }
  }

  /**
   * One line for the log: the throwable's simple class name and the first line of its message (JCuda's
   * UnsatisfiedLinkError carries the platform details and a stack trace in its message).
   */
  static String reason(Throwable t) {
    String message = t.getMessage() == null ? "" : t.getMessage().strip().lines().findFirst().orElse("");
    return t.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message);
  }
}
