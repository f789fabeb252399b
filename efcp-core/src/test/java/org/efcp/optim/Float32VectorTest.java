package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;

import org.junit.jupiter.api.Test;

class Float32VectorTest {
  private static final float[] VALUES = {1.5f, -0.1f, 0f, Float.MAX_VALUE};

  @Test
  void widensExactlyAndAddsScaled() {
    Float32Vector v = new Float32Vector(VALUES.clone());
    assertEquals(4, v.dimension());
    double[] dense = new double[4];
    v.toDense(dense);
    assertArrayEquals(new double[] {1.5, (double) -0.1f, 0, (double) Float.MAX_VALUE}, dense, 0.0);
    double[] acc = {1, 1, 1, 0};
    v.addTo(acc, -2.0);
    assertArrayEquals(new double[] {1 - 3.0, 1 + 2 * (double) 0.1f, 1, -2 * (double) Float.MAX_VALUE}, acc, 0.0);
  }

  @Test
  void aDenseWindowStoresItAsItIsAndReturnsACopy() {
    DenseWindow window = new DenseWindow(2, 4);
    window.insert(new Float32Vector(VALUES.clone()));
    Float32Vector stored = window.stored(0);
    assertArrayEquals(VALUES, stored.values());
    stored.values()[0] = 7f;
    assertArrayEquals(VALUES, window.stored(0).values(), "the window keeps its own row");
    assertNotSame(window.stored(0).values(), window.stored(0).values());
    assertArrayEquals(new float[4], window.stored(1).values(), "an empty slot is zero");
  }
}
