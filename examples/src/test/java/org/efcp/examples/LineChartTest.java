package org.efcp.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LineChartTest {

  @TempDir
  Path tmp;

  @Test
  void ticksAreRoundValuesInsideTheRange() {
    assertArrayEquals(new double[] {0, 0.2, 0.4, 0.6, 0.8, 1.0}, LineChart.ticks(0, 1.05), 1e-12);
    assertArrayEquals(new double[] {20, 30, 40, 50, 60, 70, 80, 90}, LineChart.ticks(13, 97), 1e-12);
    assertArrayEquals(new double[] {3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5}, LineChart.ticks(2.9, 6.9), 1e-12);
  }

  @Test
  void drawsTheLineInItsColourAndWritesAPngOfTheGivenSize() throws IOException {
    Path file = tmp.resolve("c.png");
    new LineChart("title", "x", "y")
        .line("rising", new double[] {1, 2, 3, Double.NaN}, new double[] {0, 1, 4, 9}, LineChart.BLUE, true)
        .reference("half", 2, LineChart.GREY)
        .writePng(file, 400, 300);
    BufferedImage image = ImageIO.read(file.toFile());
    assertEquals(400, image.getWidth());
    assertEquals(300, image.getHeight());
    int blue = 0;
    for (int y = 0; y < 300; y++) {
      for (int x = 0; x < 400; x++) {
        if ((image.getRGB(x, y) & 0xffffff) == (LineChart.BLUE.getRGB() & 0xffffff)) {
          blue++;
        }
      }
    }
    assertTrue(blue > 100, "blue pixels: " + blue);
  }
}
