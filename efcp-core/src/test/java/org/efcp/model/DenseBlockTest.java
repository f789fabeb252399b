package org.efcp.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class DenseBlockTest {

  @Test
  void fromRowsLaysOutRowMajorWithUnitWeights() {
    DenseBlock b = DenseBlock.fromRows(3, new double[][] {{1, 2, 3}, {4, 5, 6}}, new double[] {0, 1});
    assertEquals(2, b.numRows());
    assertEquals(3, b.numFeatures());
    assertArrayEquals(new double[] {1, 2, 3, 4, 5, 6}, b.features(), 0.0);
    assertArrayEquals(new double[] {1, 1}, b.weights(), 0.0);
    assertEquals(2.0, b.totalWeight(), 0.0);
  }

  @Test
  void holdsTheGivenArraysWithoutCopying() {
    double[] x = {1, 2};
    double[] y = {0};
    double[] w = {0.5};
    DenseBlock b = new DenseBlock(1, 2, x, y, w);
    assertSame(x, b.features());
    assertSame(y, b.labels());
    assertSame(w, b.weights());
    assertEquals(0.5, b.totalWeight(), 0.0);
  }

  @Test
  void emptyBlockIsAllowed() {
    DenseBlock b = DenseBlock.fromRows(4, new double[0][], new double[0]);
    assertEquals(0, b.numRows());
    double[] grad = new double[15];
    assertEquals(0.0, new MultinomialLogisticRegression(4, 3, true).addLossAndGradient(b, new double[15], grad), 0.0);
    assertArrayEquals(new double[15], grad, 0.0);
  }

  @Test
  void sizeMismatchesNameTheArray() {
    assertMessage("features: expected 6 values, got 5", () -> new DenseBlock(2, 3, new double[5], new double[2]));
    assertMessage("labels: expected 2 values, got 3", () -> new DenseBlock(2, 3, new double[6], new double[3]));
    assertMessage("weights: expected 2 values, got 1",
        () -> new DenseBlock(2, 3, new double[6], new double[2], new double[1]));
    assertMessage("numFeatures: must be >= 1, got 0", () -> new DenseBlock(0, 0, new double[0], new double[0]));
    assertMessage("rows: row 1 has 2 columns, expected 3",
        () -> DenseBlock.fromRows(3, new double[][] {{1, 2, 3}, {4, 5}}, new double[2]));
  }

  @Test
  void validationNamesTheBadValue() {
    double[] x = {1, 2, 3, 4};
    assertMessage("features: expected 3 columns, got 2",
        () -> new DenseBlock(2, 2, x, new double[] {0, 1}).validate(3, 2));
    assertMessage("features: row 1 column 0 is NaN (must be finite)",
        () -> new DenseBlock(2, 2, new double[] {1, 2, Double.NaN, 4}, new double[] {0, 1}).validate(2, 2));
    assertMessage("features: row 0 column 1 is Infinity (must be finite)",
        () -> new DenseBlock(2, 2, new double[] {1, Double.POSITIVE_INFINITY, 3, 4}, new double[] {0, 1})
            .validate(2, 2));
    assertMessage("label: row 1 is 1.5 (must be an integer in [0, 3))",
        () -> new DenseBlock(2, 2, x, new double[] {0, 1.5}).validate(2, 3));
    assertMessage("label: row 0 is -1.0 (must be an integer in [0, 3))",
        () -> new DenseBlock(2, 2, x, new double[] {-1, 1}).validate(2, 3));
    assertMessage("label: row 1 is 3.0 (must be an integer in [0, 3))",
        () -> new DenseBlock(2, 2, x, new double[] {0, 3}).validate(2, 3));
    assertMessage("label: row 0 is NaN (must be an integer in [0, 3))",
        () -> new DenseBlock(2, 2, x, new double[] {Double.NaN, 1}).validate(2, 3));
    assertMessage("weight: row 1 is -0.5 (must be finite and >= 0)",
        () -> new DenseBlock(2, 2, x, new double[] {0, 1}, new double[] {1, -0.5}).validate(2, 3));
    assertMessage("weight: row 0 is Infinity (must be finite and >= 0)",
        () -> new DenseBlock(2, 2, x, new double[] {0, 1}, new double[] {Double.POSITIVE_INFINITY, 1})
            .validate(2, 3));
    assertMessage("weight: row 0 is NaN (must be finite and >= 0)",
        () -> new DenseBlock(2, 2, x, new double[] {0, 1}, new double[] {Double.NaN, 1}).validate(2, 3));
    new DenseBlock(2, 2, x, new double[] {0, 2}, new double[] {0, 1}).validate(2, 3);
  }

  private static void assertMessage(String expected, Runnable action) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, action::run);
    assertEquals(expected, e.getMessage());
  }
}
