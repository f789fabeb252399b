package org.efcp.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;

import org.junit.jupiter.api.Test;

class LineChartTest {

  // A 640×360 chart's plot area is x 70..620, y 36..310 (margins left 70, right 20, top 36, bottom 50).
  // Data on [0, 10] × [0, 10] (ticks of 2) map value v to pixel 70 + 55·v across and 310 − 27.4·v down.
  private static int px(double x) {
    return (int) Math.round(70 + 55 * x);
  }

  private static int py(double y) {
    return (int) Math.round(310 - 27.4 * y);
  }

  private static boolean isBlue(BufferedImage image, int x, int y) {
    Color c = new Color(image.getRGB(x, y));
    return c.getBlue() > c.getRed() + 60 && c.getBlue() > c.getGreen() + 30;
  }

  /** Whether any pixel within one pixel of (x, y) is drawn in the first series' blue. */
  private static boolean blueNear(BufferedImage image, int x, int y) {
    for (int dx = -1; dx <= 1; dx++) {
      for (int dy = -1; dy <= 1; dy++) {
        if (isBlue(image, x + dx, y + dy)) {
          return true;
        }
      }
    }
    return false;
  }

  @Test
  void drawsTheSeriesThroughItsPointsAndNowhereElse() {
    double[] x = {0, 2.5, 5, 7.5, 10};
    BufferedImage image = new LineChart("t", "x", "y").add("diagonal", x, x).render();

    assertEquals(640, image.getWidth());
    assertEquals(360, image.getHeight());
    assertTrue(blueNear(image, px(5), py(5)), "the line passes through (5, 5)");
    assertTrue(blueNear(image, px(2.5), py(2.5)), "the line passes through (2.5, 2.5)");
    assertFalse(blueNear(image, px(5), py(2)), "nothing is drawn at (5, 2)");
    assertFalse(blueNear(image, px(2), py(8)), "nothing is drawn at (2, 8)");
  }

  @Test
  void leavesAGapAtANonFinitePoint() {
    double[] x = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    double[] y = {0, 10, 5, 5, 5, Double.NaN, 5, 5, 5, 5, 5};
    BufferedImage image = new LineChart("t", "x", "y").add("flat", x, y).render();

    assertTrue(blueNear(image, px(3.5), py(5)), "drawn between the finite points 3 and 4");
    assertFalse(blueNear(image, px(5), py(5)), "not drawn across the NaN at 5");
  }

  @Test
  void tickStepsAreOneTwoOrFiveTimesAPowerOfTen() {
    assertEquals(2.0, LineChart.tickStep(0, 10), 1e-12);
    assertEquals(0.2, LineChart.tickStep(0, 1), 1e-12);
    assertEquals(0.01, LineChart.tickStep(0, 0.037), 1e-12);
    assertEquals(0.5, LineChart.tickStep(3, 4.6), 1e-12);
    assertEquals(5.0, LineChart.tickStep(0, 31), 1e-12);
  }

  @Test
  void refusesMismatchedSeriesAndImpossibleSizes() {
    LineChart chart = new LineChart("t", "x", "y");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> chart.add("s", new double[3], new double[2]));
    assertTrue(e.getMessage().startsWith("y:"), e.getMessage());
    chart.add("s", new double[] {0, 1}, new double[] {0, 1});
    e = assertThrows(IllegalArgumentException.class, () -> chart.render(100, 300));
    assertTrue(e.getMessage().startsWith("width:"), e.getMessage());
  }

  @Test
  void refusesToRenderWithoutAFinitePoint() {
    LineChart chart = new LineChart("empty", "x", "y").add("nan", new double[] {1}, new double[] {Double.NaN});
    assertThrows(IllegalStateException.class, chart::render);
  }
}
