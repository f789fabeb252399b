package org.efcp.cuda;

import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Map;

import jcuda.driver.CUdeviceptr;
import jcuda.driver.JCudaDriver;

/**
 * Caches freed device blocks by size class so that steady-state steps allocate nothing from the driver
 * ({@code cuMemAlloc}/{@code cuMemFree} synchronise the device and cost tens of microseconds).
 *
 * <p>Size classes: every request is rounded up to a multiple of a step that is a quarter of the largest
 * power of two below it, clamped to [256 B, 2 MiB]. Small requests thus waste at most 25 % (and land in few
 * classes), large ones at most 2 MiB (the driver's own granularity for big blocks).
 *
 * <p>A block handed back is reused by the next request of its class at once, without waiting for the
 * device: close a buffer only after the work that uses it is finished or was queued on the same stream as
 * the work that will reuse it.
 */
final class DevicePool {
  static final long MIN_STEP = 256;
  static final long MAX_STEP = 2L << 20;

  private final GpuContext context;
  private final Map<Long, ArrayDeque<CUdeviceptr>> free = new HashMap<>();
  private long cachedBytes;
  private long inUseBytes;

  DevicePool(GpuContext context) {
    this.context = context;
  }

  /** The size class (bytes actually allocated) for a request of {@code bytes} ≥ 0. */
  static long sizeClass(long bytes) {
    if (bytes < 0) {
      throw new IllegalArgumentException("bytes: must be >= 0, got " + bytes);
    }
    if (bytes <= MIN_STEP) {
      return MIN_STEP;
    }
    long step = Math.min(MAX_STEP, Math.max(MIN_STEP, Long.highestOneBit(bytes - 1) / 4));
    return Math.addExact(bytes, step - 1) / step * step;
  }

  /** A block of exactly {@code sizeClass} bytes, from the cache or from the driver. */
  synchronized CUdeviceptr acquire(long sizeClass) {
    ArrayDeque<CUdeviceptr> list = free.get(sizeClass);
    if (list != null && !list.isEmpty()) {
      cachedBytes -= sizeClass;
      inUseBytes += sizeClass;
      return list.pop();
    }
    context.makeCurrent();
    CUdeviceptr p = new CUdeviceptr();
    try {
      Cuda.check("cuMemAlloc(" + sizeClass + " bytes)", () -> JCudaDriver.cuMemAlloc(p, sizeClass));
    } catch (CudaException e) {
      if (!e.isOutOfMemory() || cachedBytes == 0) {
        throw e;
      }
      releaseCached();
      Cuda.check("cuMemAlloc(" + sizeClass + " bytes)", () -> JCudaDriver.cuMemAlloc(p, sizeClass));
    }
    inUseBytes += sizeClass;
    return p;
  }

  /** Takes a block back into the cache. */
  synchronized void release(CUdeviceptr block, long sizeClass) {
    free.computeIfAbsent(sizeClass, k -> new ArrayDeque<>()).push(block);
    cachedBytes += sizeClass;
    inUseBytes -= sizeClass;
  }

  /** Frees every cached block with {@code cuMemFree}. */
  synchronized void releaseCached() {
    context.makeCurrent();
    for (ArrayDeque<CUdeviceptr> list : free.values()) {
      while (!list.isEmpty()) {
        CUdeviceptr p = list.pop();
        Cuda.check("cuMemFree", () -> JCudaDriver.cuMemFree(p));
      }
    }
    free.clear();
    cachedBytes = 0;
  }

  /** Bytes handed out by {@link #acquire} and not released yet. */
  synchronized long inUseBytes() {
    return inUseBytes;
  }

  /** Bytes held in the cache (allocated from the driver but not in use). */
  synchronized long cachedBytes() {
    return cachedBytes;
  }
}
