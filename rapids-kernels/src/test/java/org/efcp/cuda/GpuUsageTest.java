package org.efcp.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** {@link GpuContext#usage()} counts what is open, by kind, and comes back when everything is closed. */
@Tag("gpu")
class GpuUsageTest {

  @Test
  void everyOpenResourceIsCountedUntilItIsClosed() {
    GpuContext ctx = GpuTests.context();
    GpuUsage before = ctx.usage();
    DeviceBuffer a = ctx.allocate(1000);
    DeviceBuffer view = a.view(0, 100);
    PinnedBuffer pinned = ctx.allocatePinned(4096);
    GpuStream stream = ctx.createStream();
    GpuEvent event = ctx.createEvent(false);
    GpuUsage open = ctx.usage();
    assertEquals(before.deviceBytes() + DevicePool.sizeClass(1000), open.deviceBytes(), "by size class; views free");
    assertEquals(before.pinnedBytes() + 4096, open.pinnedBytes());
    assertEquals(before.streams() + 1, open.streams());
    assertEquals(before.events() + 1, open.events());

    view.close();
    for (int i = 0; i < 2; i++) {
      a.close();
      pinned.close();
      stream.close();
      event.close();
    }
    assertEquals(before, ctx.usage(), "closing twice counts once");
  }

  @Test
  void aBlockBackInThePoolIsCachedNotInUse() {
    GpuContext ctx = GpuTests.context();
    GpuUsage before = ctx.usage();
    long size = DevicePool.sizeClass(3 << 20);
    ctx.allocate(3 << 20).close();
    assertEquals(before, ctx.usage());
    assertTrue(ctx.cachedBytes() >= size, "the block is cached");
    try (DeviceBuffer again = ctx.allocate(3 << 20)) {
      assertEquals(before.deviceBytes() + size, ctx.usage().deviceBytes());
    }
    assertEquals(before, ctx.usage());
  }
}
