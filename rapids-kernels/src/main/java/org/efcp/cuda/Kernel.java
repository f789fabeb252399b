package org.efcp.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import jcuda.Pointer;
import jcuda.driver.CUfunction;
import jcuda.driver.JCudaDriver;

/** One {@code extern "C" __global__} function of a {@link KernelModule}. */
public final class Kernel {
  /** System property that makes every launch synchronise its stream and check for errors (tests set it). */
  public static final String CHECKED_PROPERTY = "efcp.cuda.checked";

  private final GpuContext context;
  private final String name;
  private final CUfunction function;

  Kernel(GpuContext context, String name, CUfunction function) {
    this.context = context;
    this.name = name;
    this.function = function;
  }

  /** The kernel's name. */
  public String name() {
    return name;
  }

  /**
   * Queues the kernel on {@code stream} (null = the legacy default stream) with a grid of gridX × gridY
   * blocks of blockX × blockY threads and {@code sharedBytes} of dynamic shared memory. {@code args} are the
   * kernel parameters in order: a {@link DeviceBuffer} passes its device pointer, an Integer/Long/Float/
   * Double passes an {@code int}/{@code long long}/{@code float}/{@code double} by value.
   *
   * @throws CudaException naming the kernel when the launch is rejected (or, with system property
   *     {@value #CHECKED_PROPERTY}{@code =true}, when the kernel then fails)
   * @throws IllegalArgumentException when an argument has another type
   */
  public void launch(GpuStream stream, int gridX, int gridY, int blockX, int blockY, int sharedBytes,
      Object... args) {
    Pointer params = Pointer.to(marshal(name, args));
    context.makeCurrent();
    Cuda.check("cuLaunchKernel(" + name + ")", () -> JCudaDriver.cuLaunchKernel(function, gridX, gridY, 1,
        blockX, blockY, 1, sharedBytes, GpuStream.handleOf(stream), params, null));
    if (Boolean.getBoolean(CHECKED_PROPERTY)) {
      Cuda.check("kernel " + name + " (checked launch)",
          () -> JCudaDriver.cuStreamSynchronize(GpuStream.handleOf(stream)));
    }
  }

  /**
   * The kernel-parameter pointers for {@code args}: a pointer to the device pointer of each
   * {@link DeviceBuffer}, and a pointer to a native-order copy of each scalar (4 bytes for Integer and
   * Float, 8 for Long and Double). The driver copies the values at launch, so nothing here must outlive it.
   */
  static Pointer[] marshal(String kernelName, Object... args) {
    Pointer[] out = new Pointer[args.length];
    for (int i = 0; i < args.length; i++) {
      Object a = args[i];
      if (a instanceof DeviceBuffer b) {
        out[i] = Pointer.to(b.pointer());
      } else if (a instanceof Integer v) {
        out[i] = Pointer.to(scalar(4).putInt(0, v));
      } else if (a instanceof Long v) {
        out[i] = Pointer.to(scalar(8).putLong(0, v));
      } else if (a instanceof Float v) {
        out[i] = Pointer.to(scalar(4).putFloat(0, v));
      } else if (a instanceof Double v) {
        out[i] = Pointer.to(scalar(8).putDouble(0, v));
      } else {
        throw new IllegalArgumentException("args[" + i + "]: unsupported argument type "
            + (a == null ? "null" : a.getClass().getName()) + " for kernel " + kernelName
            + " (expected DeviceBuffer, Integer, Long, Float or Double)");
      }
    }
    return out;
  }

  private static ByteBuffer scalar(int bytes) {
    return ByteBuffer.allocate(bytes).order(ByteOrder.nativeOrder());
  }
}
