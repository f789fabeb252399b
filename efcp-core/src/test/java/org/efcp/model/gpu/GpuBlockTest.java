package org.efcp.model.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class GpuBlockTest {

  @Test
  void labelsBecomeInt32ClassIndices() {
    assertArrayEquals(new int[] {0, 6, 3}, GpuBlock.labelsToInt(new double[] {0, 6, 3.0}, 7));
    assertArrayEquals(new int[0], GpuBlock.labelsToInt(new double[0], 2));
  }

  @Test
  void labelsOutsideTheClassesOrNotIntegersAreRejectedWithTheirRow() {
    for (double bad : new double[] {-1, 7, 2.5, Double.NaN, Double.POSITIVE_INFINITY, -0.5}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> GpuBlock.labelsToInt(new double[] {1, bad}, 7));
      assertTrue(e.getMessage().startsWith("label: row 1 is "), e.getMessage());
    }
  }

  @Test
  void valuesAreRoundedToNearestFloat() {
    float[] f = GpuBlock.toFloat(new double[] {0.1, -3, 1e-50, 1 + 0x1p-30});
    assertEquals(0.1f, f[0]);
    assertEquals(-3f, f[1]);
    assertEquals(0f, f[2]);
    assertEquals(1f, f[3]);
  }
}
