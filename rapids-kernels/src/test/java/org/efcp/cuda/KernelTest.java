package org.efcp.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;

import jcuda.Pointer;
import jcuda.driver.CUdeviceptr;

import org.junit.jupiter.api.Test;

/** Kernel-argument marshalling (pure Java, no GPU). */
class KernelTest {

  @Test
  void scalarsBecomeNativeOrderValuesOfTheirCSize() {
    Pointer[] p = Kernel.marshal("k", 7, -3L << 40, 1.5f, -2.25);
    assertEquals(4, p.length);
    assertEquals(7, bytes(p[0], 4).getInt(0));
    assertEquals(-3L << 40, bytes(p[1], 8).getLong(0));
    assertEquals(1.5f, bytes(p[2], 4).getFloat(0));
    assertEquals(-2.25, bytes(p[3], 8).getDouble(0));
    assertEquals(4, bytes(p[0], 4).capacity(), "int is 4 bytes");
    assertEquals(4, bytes(p[2], 4).capacity(), "float is 4 bytes");
  }

  @Test
  void aDeviceBufferPassesItsDevicePointerIncludingAViewsOffset() {
    DeviceBuffer root = DeviceBuffer.owning(null, new CUdeviceptr(), 1024, 1024);
    DeviceBuffer view = root.view(24, 100);
    Pointer[] p = Kernel.marshal("k", root, 5, view);
    assertNull(p[0].getByteBuffer(0, 8), "a buffer is passed by its pointer, not by value");
    assertEquals("Pointer[pointers=[" + root.pointer() + "],byteOffset=0]", p[0].toString());
    assertEquals("Pointer[pointers=[" + view.pointer() + "],byteOffset=0]", p[2].toString());
    assertTrue(view.pointer().toString().contains("byteOffset=24"), view.pointer().toString());
    assertEquals(5, bytes(p[1], 4).getInt(0));
  }

  @Test
  void noArgumentsGiveAnEmptyArray() {
    assertEquals(0, Kernel.marshal("k").length);
  }

  @Test
  void anUnsupportedTypeIsRejectedNamingItsPositionTypeAndKernel() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Kernel.marshal("efcp_fill_f64", 1, "two"));
    assertEquals("args[1]: unsupported argument type java.lang.String for kernel efcp_fill_f64"
        + " (expected DeviceBuffer, Integer, Long, Float or Double)", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Kernel.marshal("k", (short) 1));
    assertThrows(IllegalArgumentException.class, () -> Kernel.marshal("k", new double[1]));
    IllegalArgumentException n = assertThrows(IllegalArgumentException.class,
        () -> Kernel.marshal("k", 1.0, null));
    assertTrue(n.getMessage().startsWith("args[1]: unsupported argument type null"), n.getMessage());
  }

  private static ByteBuffer bytes(Pointer p, int size) {
    ByteBuffer b = p.getByteBuffer(0, size);
    assertEquals(size, b.remaining(), "scalar size");
    return b;
  }
}
