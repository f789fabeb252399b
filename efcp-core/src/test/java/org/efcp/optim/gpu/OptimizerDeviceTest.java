package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.efcp.cuda.CudaAvailability;
import org.efcp.cuda.DevicePreference;
import org.efcp.optim.Method;
import org.junit.jupiter.api.Test;

/** The choice between the CPU and GPU direction pipelines, against given probe results and sizes. */
class OptimizerDeviceTest {
  private static final CudaAvailability GPU = new CudaAvailability(true, 1, "NVIDIA H200", 13000, "");
  private static final CudaAvailability NO_GPU =
      new CudaAvailability(false, 0, "", 0, "libcuda.so.1: cannot open shared object file");

  @Test
  void cpuIsTheCpuWhateverTheMachineHas() {
    assertFalse(OptimizerDevice.choose(DevicePreference.CPU, Method.SPARSE_MFAC, 0, 0, GPU).gpu());
    assertFalse(OptimizerDevice.choose(DevicePreference.CPU, Method.SPARSE_MFAC, 0, 0, null).gpu());
  }

  @Test
  void autoTakesTheGpuOnlyWhenCudaWorksAndTheSizesFitTheKernels() {
    OptimizerDevice on = OptimizerDevice.choose(DevicePreference.AUTO, Method.SPARSE_MFAC, 1024, 0, GPU);
    assertTrue(on.gpu());
    assertEquals("gpu", on.label());
    assertTrue(on.reason().contains("NVIDIA H200"), on.reason());

    OptimizerDevice noCuda = OptimizerDevice.choose(DevicePreference.AUTO, Method.DENSE_MFAC, 0, 0, NO_GPU);
    assertFalse(noCuda.gpu());
    assertTrue(noCuda.reason().contains("libcuda.so.1"), noCuda.reason());

    OptimizerDevice tooLarge = OptimizerDevice.choose(DevicePreference.AUTO, Method.SPARSE_GGT, 200, 0, GPU);
    assertFalse(tooLarge.gpu());
    assertTrue(tooLarge.reason().contains("m <= 128, got m = 200"), tooLarge.reason());
  }

  @Test
  void gpuIsTheGpuOrAnErrorThatSaysWhy() {
    assertTrue(OptimizerDevice.choose(DevicePreference.GPU, Method.SGD, 0, 0, GPU).gpu());
    IllegalStateException noCuda = assertThrows(IllegalStateException.class,
        () -> OptimizerDevice.choose(DevicePreference.GPU, Method.SPARSE_MFAC, 0, 0, NO_GPU));
    assertTrue(noCuda.getMessage().startsWith("device: gpu requested but CUDA is not available: libcuda.so.1"),
        noCuda.getMessage());
    IllegalArgumentException tooLarge = assertThrows(IllegalArgumentException.class,
        () -> OptimizerDevice.choose(DevicePreference.GPU, Method.LOWRANK_MFAC, 64, 9, GPU));
    assertTrue(tooLarge.getMessage().startsWith("device: gpu cannot run LOWRANK_MFAC: the GPU low-rank compressor"),
        tooLarge.getMessage());
  }

  @Test
  void everyMethodAtItsDefaultSizesFitsTheGpu() {
    for (Method m : Method.values()) {
      assertNull(GpuPipelines.obstacle(m, 0, 4), m.name());
    }
    assertEquals("the GPU M-FAC Cholesky step takes m <= 4096, got m = 4097",
        GpuPipelines.obstacle(Method.DENSE_MFAC, 4097, 0));
    assertEquals("the GPU sparse M-FAC state takes m <= 46340, got m = 46341",
        GpuPipelines.obstacle(Method.SPARSE_MFAC, 46_341, 0));
  }
}
