package org.efcp.cuda;

/** Fills a device for out-of-memory tests. */
public final class DeviceBallast {
  private DeviceBallast() {
  }

  /**
   * A buffer that takes all of {@code ctx}'s free device memory but {@code bytes} (give or take 2 MiB), after giving
   * the pool's cache back to the driver; close it to free the device again.
   */
  public static DeviceBuffer leaveFree(GpuContext ctx, long bytes) {
    ctx.releaseCachedMemory();
    long step = 2L << 20;
    return ctx.allocate(Math.max(step, (ctx.freeMemoryBytes() - bytes) / step * step));
  }
}
