package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class Float32CompressorTest {

  @Test
  void roundsEveryEntryToTheNearestFloat() {
    double[] a = {0.1, -1.0 / 3, 1e-50, 3e38, 16777217.0, -2.5};
    double[] before = a.clone();
    double[] c = new Float32Compressor(a.length).compress(a).values();
    double[] expected = {0.1f, -1.0f / 3, 0.0, 3e38f, 16777216.0, -2.5};
    for (int i = 0; i < a.length; i++) {
      assertEquals(expected[i], c[i], "entry " + i);
      assertEquals(before[i], a[i], "input untouched");
    }
  }

  @Test
  void isStatelessAndChecksTheLength() {
    Float32Compressor f = new Float32Compressor(3);
    assertEquals(0, f.memoryBytes());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> f.compress(new double[2]));
    assertTrue(e.getMessage().startsWith("a: "), e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> new Float32Compressor(0));
    assertTrue(e.getMessage().startsWith("d: "), e.getMessage());
  }
}
