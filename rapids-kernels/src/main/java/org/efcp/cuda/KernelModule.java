package org.efcp.cuda;

import java.util.HashMap;
import java.util.Map;

import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.JCudaDriver;

/** A loaded fatbin ({@code /org/efcp/cuda/<name>.fatbin}); lives as long as its context. */
public final class KernelModule {
  private final GpuContext context;
  private final String name;
  private final CUmodule module;
  private final Map<String, Kernel> kernels = new HashMap<>();

  KernelModule(GpuContext context, String name, byte[] fatbin) {
    this.context = context;
    this.name = name;
    this.module = new CUmodule();
    context.makeCurrent();
    Cuda.check("cuModuleLoadData(" + name + ")", () -> JCudaDriver.cuModuleLoadData(module, fatbin));
  }

  /** The module name (the resource's base name). */
  public String name() {
    return name;
  }

  /**
   * The {@code extern "C"} kernel {@code kernelName} of this module (looked up once, then cached);
   * throws {@link CudaException} when the module has no such kernel.
   */
  public synchronized Kernel kernel(String kernelName) {
    Kernel k = kernels.get(kernelName);
    if (k == null) {
      CUfunction f = new CUfunction();
      context.makeCurrent();
      Cuda.check("cuModuleGetFunction(" + name + ", " + kernelName + ")",
          () -> JCudaDriver.cuModuleGetFunction(f, module, kernelName));
      k = new Kernel(context, kernelName, f);
      kernels.put(kernelName, k);
    }
    return k;
  }
}
