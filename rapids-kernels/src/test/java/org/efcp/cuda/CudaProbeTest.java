package org.efcp.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

class CudaProbeTest {

  /** The build machines have no NVIDIA driver: the probe must say so instead of throwing. */
  @Test
  void reportsNoGpuWithAReasonWhenTheDriverIsMissing() {
    assumeFalse(Files.exists(Path.of("/dev/nvidiactl")), "this machine has an NVIDIA driver");
    CudaAvailability a = CudaProbe.availability();
    assertFalse(a.available());
    assertEquals(0, a.deviceCount());
    assertFalse(a.reason().isEmpty(), "the reason must say why");
  }

  @Test
  void theReasonIsOneLineWhateverTheThrowableCarries() {
    UnsatisfiedLinkError multiLine = new UnsatisfiedLinkError(
        "Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"\nOperating system name: Linux\n"
            + "Stack trace from the attempt:\n\tat jcuda.LibUtils.loadLibrary(LibUtils.java:168)");
    assertEquals("UnsatisfiedLinkError: Error while loading native library \"JCudaDriver-12.6.0-linux-x86_64\"",
        CudaProbe.reason(multiLine));
    assertEquals("NoClassDefFoundError", CudaProbe.reason(new NoClassDefFoundError()));
    assertFalse(CudaProbe.availability().reason().contains("\n"), "the probe's reason is one line");
  }

  @Test
  void probesOnlyOnce() {
    assertSame(CudaProbe.availability(), CudaProbe.availability());
  }

  @Test
  @Tag("gpu")
  void findsTheDeviceAndACuda13DriverOnTheGpuMachine() {
    CudaAvailability a = CudaProbe.availability();
    assertTrue(a.available(), a.reason());
    assertTrue(a.deviceCount() >= 1);
    assertFalse(a.firstDeviceName().isEmpty());
    assertTrue(a.driverVersion() >= 13000, "driver API version " + a.driverVersion() + " < 13000 (R580)");
  }
}
