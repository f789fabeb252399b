package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class IdentityPreconditionerTest {

  @Test
  void writesTheCompressedVectorAsIsAndOverwritesEveryEntry() {
    IdentityPreconditioner p = new IdentityPreconditioner(5);
    double[] out = {9, 9, 9, 9, 9};
    p.update(new SparseVector(5, new int[] {1, 4}, new float[] {2.5f, -1f}), out);
    assertArrayEquals(new double[] {0, 2.5, 0, 0, -1}, out, 0.0);
    p.update(new DenseVector(new double[] {1, 2, 3, 4, 5}), out);
    assertArrayEquals(new double[] {1, 2, 3, 4, 5}, out, 0.0);
    assertEquals(0, p.memoryBytes());
    assertEquals(5, p.dimension());
  }

  @Test
  void rejectsMismatchedDimensions() {
    IdentityPreconditioner p = new IdentityPreconditioner(3);
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> p.update(new DenseVector(new double[4]), new double[3])).getMessage().startsWith("c:"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> p.update(new DenseVector(new double[3]), new double[2])).getMessage().startsWith("out:"));
    assertTrue(assertThrows(IllegalArgumentException.class,
        () -> new IdentityPreconditioner(0)).getMessage().startsWith("d:"));
  }
}
