package org.efcp.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

class DevicePreferenceTest {
  private static final CudaAvailability NONE = CudaAvailability.unavailable("UnsatisfiedLinkError: no libcuda");
  private static final CudaAvailability ONE = new CudaAvailability(true, 1, "NVIDIA H100", 13000, "");

  @Test
  void parsesTheThreeNamesIgnoringCaseAndBlanks() {
    assertEquals(DevicePreference.AUTO, DevicePreference.parse("auto"));
    assertEquals(DevicePreference.CPU, DevicePreference.parse(" CPU "));
    assertEquals(DevicePreference.GPU, DevicePreference.parse("Gpu"));
  }

  @Test
  void rejectsAnythingElseNamingTheValue() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DevicePreference.parse("cuda"));
    assertEquals("device: unknown 'cuda' (expected auto, cpu or gpu)", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> DevicePreference.parse(""));
    assertThrows(IllegalArgumentException.class, () -> DevicePreference.parse(null));
  }

  @Test
  void autoFollowsTheProbe() {
    assertFalse(DevicePreference.AUTO.useGpu(NONE));
    assertTrue(DevicePreference.AUTO.useGpu(ONE));
  }

  @Test
  void cpuNeverUsesTheGpu() {
    assertFalse(DevicePreference.CPU.useGpu(NONE));
    assertFalse(DevicePreference.CPU.useGpu(ONE));
  }

  @Test
  void gpuWithoutCudaFailsWithTheProbesReason() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> DevicePreference.GPU.useGpu(NONE));
    assertEquals("device: gpu requested but CUDA is not available: UnsatisfiedLinkError: no libcuda", e.getMessage());
    assertTrue(DevicePreference.GPU.useGpu(ONE));
  }

  /** On this driverless build machine the real probe drives the same answers. */
  @Test
  void withoutADriverAutoAndCpuSayNoAndGpuThrows() {
    assumeFalse(Files.exists(Path.of("/dev/nvidiactl")), "this machine has an NVIDIA driver");
    assertFalse(DevicePreference.AUTO.useGpu());
    assertFalse(DevicePreference.CPU.useGpu());
    IllegalStateException e = assertThrows(IllegalStateException.class, DevicePreference.GPU::useGpu);
    assertEquals("device: gpu requested but CUDA is not available: " + CudaProbe.availability().reason(),
        e.getMessage());
  }
}
