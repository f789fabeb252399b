package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.efcp.cuda.CudaAvailability;
import org.efcp.cuda.DevicePreference;
import org.efcp.optim.Method;
import org.junit.jupiter.api.Test;

/** The choice between the CPU and GPU direction pipelines, against given probe results. */
class OptimizerDeviceTest {
  private static final CudaAvailability GPU = new CudaAvailability(true, 1, "NVIDIA H200", 13000, "");
  private static final CudaAvailability NO_GPU =
      new CudaAvailability(false, 0, "", 0, "libcuda.so.1: cannot open shared object file");

  @Test
  void cpuIsTheCpuWhateverTheMachineHas() {
    assertFalse(OptimizerDevice.choose(DevicePreference.CPU, Method.SPARSE_MFAC, GPU).gpu());
    assertFalse(OptimizerDevice.choose(DevicePreference.CPU, Method.SPARSE_MFAC, null).gpu());
  }

  @Test
  void autoTakesTheGpuOnlyWhenCudaWorksAndTheMethodHasAGpuPipeline() {
    OptimizerDevice on = OptimizerDevice.choose(DevicePreference.AUTO, Method.SPARSE_MFAC, GPU);
    assertTrue(on.gpu());
    assertEquals("gpu", on.label());
    assertTrue(on.reason().contains("NVIDIA H200"), on.reason());

    OptimizerDevice noCuda = OptimizerDevice.choose(DevicePreference.AUTO, Method.DENSE_MFAC, NO_GPU);
    assertFalse(noCuda.gpu());
    assertTrue(noCuda.reason().contains("libcuda.so.1"), noCuda.reason());

    OptimizerDevice noPipeline = OptimizerDevice.choose(DevicePreference.AUTO, Method.ADAGRAD_EF, GPU);
    assertFalse(noPipeline.gpu());
    assertTrue(noPipeline.reason().contains("ADAGRAD_EF"), noPipeline.reason());
  }

  @Test
  void gpuIsTheGpuOrAnErrorThatSaysWhy() {
    assertTrue(OptimizerDevice.choose(DevicePreference.GPU, Method.SPARSE_MFAC, GPU).gpu());
    IllegalStateException noCuda = assertThrows(IllegalStateException.class,
        () -> OptimizerDevice.choose(DevicePreference.GPU, Method.SPARSE_MFAC, NO_GPU));
    assertTrue(noCuda.getMessage().startsWith("device: gpu requested but CUDA is not available: libcuda.so.1"),
        noCuda.getMessage());
    IllegalArgumentException noPipeline = assertThrows(IllegalArgumentException.class,
        () -> OptimizerDevice.choose(DevicePreference.GPU, Method.SGD, GPU));
    assertTrue(noPipeline.getMessage().startsWith("device: gpu is not available for method SGD"),
        noPipeline.getMessage());
  }

  @Test
  void everyMethodTheFactoryBuildsIsListedAsSupported() {
    for (Method m : Method.values()) {
      assertEquals(GpuPipelines.supportedMethods().contains(m), GpuPipelines.supports(m), m.name());
    }
    assertTrue(GpuPipelines.supports(Method.SPARSE_MFAC));
    assertTrue(GpuPipelines.supports(Method.DENSE_MFAC));
  }
}
