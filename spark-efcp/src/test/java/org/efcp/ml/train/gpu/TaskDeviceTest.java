package org.efcp.ml.train.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.util.Map;

import org.apache.spark.resource.ResourceInformation;
import org.efcp.cuda.CudaAvailability;
import org.efcp.cuda.CudaProbe;
import org.efcp.cuda.DevicePreference;
import org.junit.jupiter.api.Test;

/** How a task finds its GPU: Spark's assigned address, else device 0, and whether CUDA can use it. */
class TaskDeviceTest {

  @Test
  void theFirstAssignedGpuAddressIsTheOrdinal() {
    assertEquals(3, TaskDevice.assignedOrdinal(Map.of("gpu", new ResourceInformation("gpu", new String[] {"3", "5"}))));
    assertEquals(0, TaskDevice.assignedOrdinal(Map.of("gpu", new ResourceInformation("gpu", new String[] {" 0 "}))));
  }

  @Test
  void withoutGpuSchedulingTheTaskUsesDeviceZero() {
    assertEquals(0, TaskDevice.assignedOrdinal(null));
    assertEquals(0, TaskDevice.assignedOrdinal(Map.of()));
    assertEquals(0, TaskDevice.assignedOrdinal(Map.of("fpga", new ResourceInformation("fpga", new String[] {"7"}))));
    assertEquals(0, TaskDevice.assignedOrdinal(Map.of("gpu", new ResourceInformation("gpu", new String[0]))));
  }

  @Test
  void anAddressThatIsNotAnOrdinalIsAClearError() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> TaskDevice.assignedOrdinal(
        Map.of("gpu", new ResourceInformation("gpu", new String[] {"GPU-8f2c"}))));
    assertTrue(e.getMessage().startsWith("spark.task.resource.gpu: the task was given address 'GPU-8f2c'"),
        e.getMessage());
  }

  @Test
  void aGpuIsUsableOnlyWhenCudaWorksAndHasThatDevice() {
    CudaAvailability two = new CudaAvailability(true, 2, "NVIDIA H200", 13000, "");
    assertNull(TaskDevice.unusableReason(1, two));
    assertEquals("this node has 2 CUDA device(s)", TaskDevice.unusableReason(2, two));
    CudaAvailability none = new CudaAvailability(false, 0, "", 0, "no libcuda");
    assertEquals("CUDA is not available: no libcuda", TaskDevice.unusableReason(0, none));
  }

  @Test
  void onAMachineWithoutCudaAutoComputesOnTheCpuAndGpuFailsWithTheReason() {
    assumeFalse(CudaProbe.availability().available(), "this machine has CUDA");
    assertNull(TaskDevice.forCurrentTask(DevicePreference.CPU));
    assertNull(TaskDevice.forCurrentTask(DevicePreference.AUTO));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> TaskDevice.forCurrentTask(DevicePreference.GPU));
    assertTrue(e.getMessage().startsWith("device: gpu requested but executor driver cannot use GPU 0: CUDA is not "
        + "available"), e.getMessage());
  }
}
