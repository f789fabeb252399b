package org.efcp.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The pool's size classes (pure Java; the block cache itself is exercised by the gpu tests). */
class DevicePoolTest {
  private static final long MIB = 1L << 20;

  @Test
  void smallRequestsShareTheMinimumClass() {
    assertEquals(256, DevicePool.sizeClass(0));
    assertEquals(256, DevicePool.sizeClass(1));
    assertEquals(256, DevicePool.sizeClass(256));
  }

  @Test
  void classesAreQuarterStepsOfThePowerOfTwoBelow() {
    assertEquals(512, DevicePool.sizeClass(257));
    assertEquals(1024, DevicePool.sizeClass(1000));
    assertEquals(1024, DevicePool.sizeClass(1024));
    assertEquals(1280, DevicePool.sizeClass(1025));
    assertEquals(5120, DevicePool.sizeClass(4097));
    assertEquals(7168, DevicePool.sizeClass(7000));
    assertEquals(5 * MIB, DevicePool.sizeClass(4 * MIB + 1));
  }

  @Test
  void largeRequestsRoundToTwoMebibytes() {
    assertEquals(8 * MIB + 2 * MIB, DevicePool.sizeClass(8 * MIB + 1));
    assertEquals(3L << 30, DevicePool.sizeClass(3L << 30));
    assertEquals((3L << 30) + 2 * MIB, DevicePool.sizeClass((3L << 30) + 1));
  }

  @Test
  void everyClassFitsTheRequestWithBoundedWasteAndIsStable() {
    long previous = 0;
    for (long b = 1; b < 200_000; b += 37) {
      check(b);
      long c = DevicePool.sizeClass(b);
      assertTrue(c >= previous, "classes must not decrease with the request: " + b);
      previous = c;
    }
    for (long b = 1; b < (1L << 40); b = b * 3 + 1) {
      check(b);
    }
  }

  @Test
  void negativeRequestsAreRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DevicePool.sizeClass(-1));
    assertTrue(e.getMessage().startsWith("bytes: "), e.getMessage());
  }

  private static void check(long b) {
    long c = DevicePool.sizeClass(b);
    assertTrue(c >= b, "class " + c + " < request " + b);
    assertEquals(0, c % 256, "class " + c + " is not 256-byte aligned");
    assertTrue(c - b < Math.max(256, Math.min(2 * MIB, b / 4 + 1)), "waste " + (c - b) + " for " + b);
    assertEquals(c, DevicePool.sizeClass(c), "a class maps to itself: " + c);
  }
}
