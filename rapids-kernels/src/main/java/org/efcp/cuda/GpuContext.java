package org.efcp.cuda;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdevice_attribute;
import jcuda.driver.JCudaDriver;

/**
 * The CUDA context of one device, shared by the whole JVM: {@link #open} returns the same instance for the
 * same ordinal every time. It is the device's primary context (the one the CUDA runtime and other
 * libraries share), retained once and never released, so modules, pooled memory and streams live until
 * the JVM exits. {@link #close()} therefore does nothing; it exists so callers can use try-with-resources
 * without caring whether the context is shared.
 *
 * <p>Every method of this layer makes the context current on the calling thread itself.
 */
public final class GpuContext implements AutoCloseable {
  /** Where the fatbins are, as classpath resources {@code <RESOURCE_DIR><name>.fatbin}. */
  public static final String RESOURCE_DIR = "/org/efcp/cuda/";

  private static final Map<Integer, GpuContext> OPEN = new HashMap<>();

  private final int ordinal;
  private final CUcontext context;
  private final String deviceName;
  private final int computeCapability;
  private final int multiprocessorCount;
  private final DevicePool pool;
  private final Map<String, KernelModule> modules = new HashMap<>();
  private final AtomicLong pinnedBytes = new AtomicLong();
  private final AtomicInteger streams = new AtomicInteger();
  private final AtomicInteger events = new AtomicInteger();

  private GpuContext(int ordinal) {
    this.ordinal = ordinal;
    CUdevice device = new CUdevice();
    Cuda.check("cuDeviceGet(" + ordinal + ")", () -> JCudaDriver.cuDeviceGet(device, ordinal));
    byte[] name = new byte[256];
    Cuda.check("cuDeviceGetName", () -> JCudaDriver.cuDeviceGetName(name, name.length, device));
    int len = 0;
    while (len < name.length && name[len] != 0) {
      len++;
    }
    this.deviceName = new String(name, 0, len, StandardCharsets.US_ASCII);
    int[] major = {0};
    int[] minor = {0};
    Cuda.check("cuDeviceGetAttribute(major)", () -> JCudaDriver.cuDeviceGetAttribute(major,
        CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device));
    Cuda.check("cuDeviceGetAttribute(minor)", () -> JCudaDriver.cuDeviceGetAttribute(minor,
        CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, device));
    this.computeCapability = 10 * major[0] + minor[0];
    int[] multiprocessors = {0};
    Cuda.check("cuDeviceGetAttribute(multiprocessors)", () -> JCudaDriver.cuDeviceGetAttribute(multiprocessors,
        CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device));
    this.multiprocessorCount = multiprocessors[0];
    this.context = new CUcontext();
    Cuda.check("cuDevicePrimaryCtxRetain(" + ordinal + ")",
        () -> JCudaDriver.cuDevicePrimaryCtxRetain(context, device));
    this.pool = new DevicePool(this);
  }

  /**
   * The shared context of device {@code ordinal} (0-based), created on the first call.
   *
   * @throws IllegalStateException when CUDA is not available here (with {@link CudaProbe}'s reason)
   * @throws IllegalArgumentException when there is no device {@code ordinal}
   */
  public static GpuContext open(int ordinal) {
    CudaAvailability a = CudaProbe.availability();
    if (!a.available()) {
      throw new IllegalStateException("CUDA is not available: " + a.reason());
    }
    if (ordinal < 0 || ordinal >= a.deviceCount()) {
      throw new IllegalArgumentException("ordinal: " + ordinal + " is not a device (" + a.deviceCount()
          + " present)");
    }
    synchronized (OPEN) {
      JCudaDriver.setExceptionsEnabled(true);
      return OPEN.computeIfAbsent(ordinal, GpuContext::new);
    }
  }

  /** The device ordinal. */
  public int ordinal() {
    return ordinal;
  }

  /** The device name, e.g. "NVIDIA H100 80GB HBM3". */
  public String deviceName() {
    return deviceName;
  }

  /** Compute capability as 10·major + minor, e.g. 90 for sm_90. */
  public int computeCapability() {
    return computeCapability;
  }

  /** The device's streaming-multiprocessor count (132 on an H100 SXM / H200). */
  public int multiprocessorCount() {
    return multiprocessorCount;
  }

  /** Makes this context current on the calling thread ({@code cuCtxSetCurrent}). */
  public void makeCurrent() {
    Cuda.check("cuCtxSetCurrent", () -> JCudaDriver.cuCtxSetCurrent(context));
  }

  /**
   * The module in resource {@code /org/efcp/cuda/<name>.fatbin}, loaded on the first call and cached.
   *
   * @throws IllegalArgumentException when there is no such resource
   * @throws CudaException when the driver rejects the fatbin (e.g. no code for this device)
   */
  public synchronized KernelModule module(String name) {
    KernelModule m = modules.get(name);
    if (m == null) {
      m = new KernelModule(this, name, readResource(name));
      modules.put(name, m);
    }
    return m;
  }

  /** A new stream on this device; close it when done. */
  public GpuStream createStream() {
    return new GpuStream(this);
  }

  /**
   * A new event on this device; close it when done.
   *
   * @param timing whether {@link GpuEvent#millisSince} may read it (an event without timing is cheaper to record and
   *     wait for)
   */
  public GpuEvent createEvent(boolean timing) {
    return new GpuEvent(this, timing);
  }

  /**
   * A device buffer of {@code bytes} bytes (≥ 0) with undefined contents, taken from the context's pool.
   * Closing it returns the block to the pool for immediate reuse, so close it only after the work that
   * uses it has finished, or was queued on the stream that the next user of the block will use.
   */
  public DeviceBuffer allocate(long bytes) {
    long sizeClass = DevicePool.sizeClass(bytes);
    return DeviceBuffer.owning(this, pool.acquire(sizeClass), bytes, sizeClass);
  }

  /** Page-locked host memory of {@code bytes} (> 0) bytes; close it to free it. */
  public PinnedBuffer allocatePinned(long bytes) {
    return new PinnedBuffer(this, bytes);
  }

  /** Frees the device memory the pool keeps cached for reuse (buffers in use are unaffected). */
  public void releaseCachedMemory() {
    pool.releaseCached();
  }

  /** Bytes of device memory the pool keeps cached for reuse. */
  public long cachedBytes() {
    return pool.cachedBytes();
  }

  /**
   * Device memory no one holds right now, in bytes ({@code cuMemGetInfo}): what other processes and this one's open
   * buffers and pool cache take is not in it.
   */
  public long freeMemoryBytes() {
    return memoryInfo()[0];
  }

  /** The device's memory in bytes ({@code cuMemGetInfo}). */
  public long totalMemoryBytes() {
    return memoryInfo()[1];
  }

  private long[] memoryInfo() {
    makeCurrent();
    long[] free = {0};
    long[] total = {0};
    Cuda.check("cuMemGetInfo", () -> JCudaDriver.cuMemGetInfo(free, total));
    return new long[] {free[0], total[0]};
  }

  /** The buffers, streams and events handed out by this context and not closed yet. */
  public GpuUsage usage() {
    return new GpuUsage(pool.inUseBytes(), pinnedBytes.get(), streams.get(), events.get());
  }

  /** Counts a pinned buffer opened (positive) or closed (negative), for {@link #usage()}. */
  void countPinned(long bytes) {
    pinnedBytes.addAndGet(bytes);
  }

  /** Counts a stream created (+1) or destroyed (−1), for {@link #usage()}. */
  void countStream(int delta) {
    streams.addAndGet(delta);
  }

  /** Counts an event created (+1) or destroyed (−1), for {@link #usage()}. */
  void countEvent(int delta) {
    events.addAndGet(delta);
  }

  /** Blocks until all work on this device has finished ({@code cuCtxSynchronize}). */
  public void synchronize() {
    makeCurrent();
    Cuda.check("cuCtxSynchronize", JCudaDriver::cuCtxSynchronize);
  }

  /** Does nothing: the context is shared and lives as long as the JVM (see the class comment). */
  @Override
  public void close() {
    // Shared for the JVM's lifetime: nothing to release here.
  }

  DevicePool pool() {
    return pool;
  }

  private static byte[] readResource(String name) {
    String path = RESOURCE_DIR + name + ".fatbin";
    try (InputStream in = GpuContext.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalArgumentException("name: no kernel module resource " + path);
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new IllegalStateException("name: cannot read " + path, e);
    }
  }
}
