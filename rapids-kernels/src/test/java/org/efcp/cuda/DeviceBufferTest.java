package org.efcp.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.DoubleBuffer;
import java.util.Arrays;

import jcuda.driver.CUdeviceptr;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Argument checks run anywhere; the methods tagged gpu move real data. */
class DeviceBufferTest {

  private static DeviceBuffer fake(long bytes) {
    return DeviceBuffer.owning(null, new CUdeviceptr(), bytes, DevicePool.sizeClass(bytes));
  }

  @Test
  void viewsMustLieInsideTheBuffer() {
    DeviceBuffer b = fake(64);
    assertEquals(8, b.view(56, 8).bytes());
    assertEquals(0, b.view(64, 0).bytes());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> b.view(60, 8));
    assertEquals("offsetBytes: byte range [60, 60 + 8) is outside a buffer of 64 bytes", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> b.view(-1, 8));
    assertThrows(IllegalArgumentException.class, () -> b.view(8, 8).view(4, 8));
  }

  @Test
  void copiesAreCheckedBeforeTouchingTheDevice() {
    DeviceBuffer b = fake(64);
    IllegalArgumentException src = assertThrows(IllegalArgumentException.class,
        () -> b.copyFrom(new double[4], 2, 3, 0));
    assertEquals("src: range [2, 2 + 3) is outside an array of length 4", src.getMessage());
    IllegalArgumentException dst = assertThrows(IllegalArgumentException.class,
        () -> b.copyFrom(new double[9], 0, 9, 0));
    assertEquals("dstByteOffset: byte range [0, 0 + 72) is outside a buffer of 64 bytes", dst.getMessage());
    assertThrows(IllegalArgumentException.class, () -> b.copyTo(new float[20], 0, 4, 52));
    assertThrows(IllegalArgumentException.class, () -> b.copyTo(new int[4], -1, 2, 0));
    assertThrows(IllegalArgumentException.class, () -> b.copyFrom(new long[4], 0, 4, -8));
  }

  @Test
  void closingAViewDoesNothing() {
    DeviceBuffer b = fake(64);
    b.view(0, 8).close();
    assertEquals(64, b.bytes());
  }

  @Test
  @Tag("gpu")
  void floatDoubleIntAndLongArraysRoundTripWithOffsets() {
    GpuContext ctx = GpuTests.context();
    try (DeviceBuffer b = ctx.allocate(8 * 100)) {
      float[] f = GpuTests.randomFloats(60, 1);
      b.copyFrom(f, 3, 50, 4 * 7);
      float[] fBack = new float[55];
      b.copyTo(fBack, 5, 50, 4 * 7);
      assertArrayEquals(Arrays.copyOfRange(f, 3, 53), Arrays.copyOfRange(fBack, 5, 55), "float round trip");

      double[] d = GpuTests.randomDoubles(60, 2);
      b.copyFrom(d, 3, 50, 8 * 7);
      double[] dBack = new double[55];
      b.copyTo(dBack, 5, 50, 8 * 7);
      assertArrayEquals(Arrays.copyOfRange(d, 3, 53), Arrays.copyOfRange(dBack, 5, 55), "double round trip");

      int[] i = new int[60];
      Arrays.setAll(i, k -> k * 7919 - 100_000);
      b.copyFrom(i, 3, 50, 4 * 9);
      int[] iBack = new int[55];
      b.copyTo(iBack, 5, 50, 4 * 9);
      assertArrayEquals(Arrays.copyOfRange(i, 3, 53), Arrays.copyOfRange(iBack, 5, 55), "int round trip");

      long[] l = new long[60];
      Arrays.setAll(l, k -> (k * 0x9E3779B97F4A7C15L) ^ k);
      b.copyFrom(l, 3, 50, 8 * 9);
      long[] lBack = new long[55];
      b.copyTo(lBack, 5, 50, 8 * 9);
      assertArrayEquals(Arrays.copyOfRange(l, 3, 53), Arrays.copyOfRange(lBack, 5, 55), "long round trip");
    }
  }

  @Test
  @Tag("gpu")
  void aViewAddressesItsRangeOfTheParent() {
    GpuContext ctx = GpuTests.context();
    try (DeviceBuffer b = ctx.allocate(8 * 40)) {
      double[] all = new double[40];
      Arrays.fill(all, -1);
      b.copyFrom(all, 0, 40, 0);
      DeviceBuffer view = b.view(8 * 10, 8 * 20);
      double[] part = GpuTests.randomDoubles(20, 3);
      view.copyFrom(part, 0, 20, 0);
      double[] back = new double[40];
      b.copyTo(back, 0, 40, 0);
      for (int k = 0; k < 40; k++) {
        double expected = k >= 10 && k < 30 ? part[k - 10] : -1;
        assertEquals(expected, back[k], "element " + k + " of the parent after writing the view [10, 30)");
      }
      double[] viaView = new double[5];
      view.view(8 * 15, 8 * 5).copyTo(viaView, 0, 5, 0);
      assertArrayEquals(Arrays.copyOfRange(part, 15, 20), viaView, "view of a view");
    }
  }

  @Test
  @Tag("gpu")
  void pinnedAsyncCopiesZeroAndDeviceCopiesOnAStream() {
    GpuContext ctx = GpuTests.context();
    int n = 1 << 16;
    try (GpuStream s = ctx.createStream();
        PinnedBuffer in = ctx.allocatePinned(8L * n);
        PinnedBuffer out = ctx.allocatePinned(8L * n);
        DeviceBuffer a = ctx.allocate(8L * n);
        DeviceBuffer c = ctx.allocate(8L * n)) {
      double[] x = GpuTests.randomDoubles(n, 4);
      in.doubles().put(x);
      a.copyFromAsync(in, 0, 8L * n, 0, s);
      c.zero(s);
      c.copyFromAsync(a, 8L * 100, 8L * 1000, 8L * 200, s);
      c.copyToAsync(out, 0, 8L * n, 0, s);
      s.synchronize();
      DoubleBuffer got = out.doubles();
      for (int k = 0; k < n; k++) {
        double expected = k >= 200 && k < 1200 ? x[k - 100] : 0.0;
        assertEquals(expected, got.get(k), "element " + k + " after zero + device copy of [100, 1100) to 200");
      }
      out.floats().put(0, 3.5f);
      assertEquals(3.5f, out.byteBuffer().getFloat(0), "float view shares the bytes");
      out.ints().put(1, 42);
      assertEquals(42, out.byteBuffer().getInt(4), "int view shares the bytes");
    }
  }

  @Test
  @Tag("gpu")
  void aClosedBlockIsReusedForTheSameSizeClass() {
    GpuContext ctx = GpuTests.context();
    ctx.releaseCachedMemory();
    DeviceBuffer first = ctx.allocate(1000);
    String address = first.pointer().toString();
    first.close();
    first.close();
    assertEquals(1024, ctx.cachedBytes(), "one 1024-byte block cached after closing twice");
    try (DeviceBuffer second = ctx.allocate(900); DeviceBuffer third = ctx.allocate(1000)) {
      assertEquals(address, second.pointer().toString(), "the cached block is handed out again");
      assertNotEquals(address, third.pointer().toString(), "a block in use is not handed out twice");
      assertEquals(0, ctx.cachedBytes());
    }
    assertEquals(2048, ctx.cachedBytes());
    ctx.releaseCachedMemory();
    assertEquals(0, ctx.cachedBytes());
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> first.copyFrom(new double[1], 0, 1, 0));
    assertTrue(e.getMessage().startsWith("buffer: "), e.getMessage());
  }
}
