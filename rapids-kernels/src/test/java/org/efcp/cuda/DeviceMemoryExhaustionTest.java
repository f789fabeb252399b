package org.efcp.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A device without room: the allocation fails as CUDA_ERROR_OUT_OF_MEMORY and nothing stays held, and the pool gives
 * its cached blocks back to the driver and tries once more before failing. Sized from what the device reports free.
 */
@Tag("gpu")
class DeviceMemoryExhaustionTest {
  private GpuContext ctx;

  @BeforeEach
  void emptyPool() {
    ctx = GpuTests.context();
    ctx.releaseCachedMemory();
  }

  @Test
  void freeAndTotalMemoryFollowWhatIsAllocated() {
    long total = ctx.totalMemoryBytes();
    long free = ctx.freeMemoryBytes();
    assertTrue(free > 0 && free <= total, free + " free of " + total);
    try (DeviceBuffer b = ctx.allocate(8L << 20)) {
      assertTrue(ctx.freeMemoryBytes() <= free - (8L << 20) + (2L << 20), "8 MiB less free, give or take a page");
    }
  }

  @Test
  void anAllocationBeyondTheDeviceFailsAsOutOfMemoryAndHoldsNothing() {
    GpuUsage before = ctx.usage();
    long tooMuch = ctx.totalMemoryBytes() + 1;
    CudaException e = assertThrows(CudaException.class, () -> ctx.allocate(tooMuch));
    assertTrue(e.isOutOfMemory(), e.getMessage());
    assertTrue(e.getMessage().startsWith("cuMemAlloc("), e.getMessage());
    assertEquals(before, ctx.usage());
    assertEquals(0, ctx.cachedBytes());
  }

  @Test
  void thePoolReturnsItsCacheToTheDriverAndRetriesBeforeFailing() {
    GpuUsage before = ctx.usage();
    long free = ctx.freeMemoryBytes();
    long big = free / 8 * 5 / (2L << 20) * (2L << 20);
    ctx.allocate(big).close();
    assertEquals(big, ctx.cachedBytes(), "the closed block is cached");
    // Another size class: the driver has no room for it next to the cached block, and room once that is freed.
    long other = big + (8L << 20);
    try (DeviceBuffer b = ctx.allocate(other)) {
      assertEquals(0, ctx.cachedBytes(), "the cache went back to the driver");
      assertEquals(before.deviceBytes() + other, ctx.usage().deviceBytes());
      CudaException e = assertThrows(CudaException.class, () -> ctx.allocate(big).close(),
          "two blocks of more than half the free memory");
      assertTrue(e.isOutOfMemory(), e.getMessage());
    }
    assertEquals(before, ctx.usage());
  }
}
