package org.efcp.examples;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.geom.Ellipse2D;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import javax.imageio.ImageIO;

/**
 * A line chart drawn with Java2D and written as PNG (no plotting library; works headless): series of (x, y)
 * points, dashed horizontal reference lines, axes with round tick values, a title and a legend. Non-finite points
 * are skipped.
 */
final class LineChart {

  /** Colours that stay distinct for most colour-blind readers (Okabe–Ito). */
  static final Color BLUE = new Color(0, 114, 178);
  static final Color ORANGE = new Color(230, 159, 0);
  static final Color GREEN = new Color(0, 158, 115);
  static final Color GREY = new Color(110, 110, 110);

  private static final int LEFT = 80;
  private static final int RIGHT = 30;
  private static final int TOP = 50;
  private static final int BOTTOM = 60;
  private static final int TICKS = 6;

  private record Series(String name, double[] x, double[] y, Color color, boolean markers) {
  }

  private record Reference(String name, double y, Color color) {
  }

  private final String title;
  private final String xLabel;
  private final String yLabel;
  private final List<Series> series = new ArrayList<>();
  private final List<Reference> references = new ArrayList<>();
  private Double yMin;
  private Double yMax;

  LineChart(String title, String xLabel, String yLabel) {
    this.title = title;
    this.xLabel = xLabel;
    this.yLabel = yLabel;
  }

  /** Adds a line through the points (x[i], y[i]); with {@code markers} each point also gets a dot. */
  LineChart line(String name, double[] x, double[] y, Color color, boolean markers) {
    if (x.length != y.length) {
      throw new IllegalArgumentException("y: " + y.length + " values for " + x.length + " x values");
    }
    series.add(new Series(name, x.clone(), y.clone(), color, markers));
    return this;
  }

  /** Adds a dashed horizontal line at {@code y}. */
  LineChart reference(String name, double y, Color color) {
    references.add(new Reference(name, y, color));
    return this;
  }

  /** Fixes the y range instead of fitting it to the data. */
  LineChart yRange(double min, double max) {
    this.yMin = min;
    this.yMax = max;
    return this;
  }

  /** Draws the chart at {@code width}×{@code height} pixels and writes it to {@code file} as PNG. */
  void writePng(Path file, int width, int height) throws IOException {
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      draw(g, width, height);
    } finally {
      g.dispose();
    }
    if (!ImageIO.write(image, "png", file.toFile())) {
      throw new IOException(file + ": no PNG writer in this JVM");
    }
  }

  private void draw(Graphics2D g, int width, int height) {
    g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
    g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
    g.setColor(Color.WHITE);
    g.fillRect(0, 0, width, height);
    Frame f = frame(width, height);

    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    FontMetrics fm = g.getFontMetrics();
    double[] xTicks = ticks(f.x0, f.x1);
    double[] yTicks = ticks(f.y0, f.y1);
    for (double t : yTicks) {
      int py = f.py(t);
      g.setColor(new Color(230, 230, 230));
      g.drawLine(f.left, py, f.right, py);
      g.setColor(Color.DARK_GRAY);
      String s = format(t, yTicks);
      g.drawString(s, f.left - 6 - fm.stringWidth(s), py + fm.getAscent() / 2 - 1);
    }
    for (double t : xTicks) {
      int px = f.px(t);
      g.setColor(new Color(230, 230, 230));
      g.drawLine(px, f.top, px, f.bottom);
      g.setColor(Color.DARK_GRAY);
      String s = format(t, xTicks);
      g.drawString(s, px - fm.stringWidth(s) / 2, f.bottom + 4 + fm.getAscent());
    }
    g.setColor(Color.BLACK);
    g.drawRect(f.left, f.top, f.right - f.left, f.bottom - f.top);
    g.drawString(xLabel, (f.left + f.right - fm.stringWidth(xLabel)) / 2, height - 16);
    Graphics2D rotated = (Graphics2D) g.create();
    rotated.rotate(-Math.PI / 2);
    rotated.drawString(yLabel, -(f.top + f.bottom + fm.stringWidth(yLabel)) / 2, 20);
    rotated.dispose();
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    g.drawString(title, (width - g.getFontMetrics().stringWidth(title)) / 2, 30);

    Stroke solid = new BasicStroke(1.8f);
    Stroke dashed = new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {7f, 5f}, 0f);
    g.clipRect(f.left, f.top, f.right - f.left + 1, f.bottom - f.top + 1);
    for (Reference r : references) {
      g.setColor(r.color());
      g.setStroke(dashed);
      g.drawLine(f.left, f.py(r.y()), f.right, f.py(r.y()));
    }
    for (Series s : series) {
      g.setColor(s.color());
      g.setStroke(solid);
      Path2D.Double path = new Path2D.Double();
      boolean started = false;
      for (int i = 0; i < s.x().length; i++) {
        if (!Double.isFinite(s.x()[i]) || !Double.isFinite(s.y()[i])) {
          continue;
        }
        double px = f.pxExact(s.x()[i]);
        double py = f.pyExact(s.y()[i]);
        if (started) {
          path.lineTo(px, py);
        } else {
          path.moveTo(px, py);
          started = true;
        }
        if (s.markers()) {
          g.fill(new Ellipse2D.Double(px - 3.5, py - 3.5, 7, 7));
        }
      }
      g.draw(path);
    }
    g.setClip(null);
    drawLegend(g, f, solid, dashed);
  }

  private void drawLegend(Graphics2D g, Frame f, Stroke solid, Stroke dashed) {
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    FontMetrics fm = g.getFontMetrics();
    List<String> names = new ArrayList<>();
    series.forEach(s -> names.add(s.name()));
    references.forEach(r -> names.add(r.name()));
    int textWidth = names.stream().mapToInt(fm::stringWidth).max().orElse(0);
    int rowHeight = fm.getHeight() + 2;
    int boxWidth = textWidth + 44;
    int x = f.right - boxWidth - 8;
    int y = f.top + 8;
    g.setColor(new Color(255, 255, 255, 225));
    g.fillRect(x, y, boxWidth, rowHeight * names.size() + 8);
    g.setColor(Color.LIGHT_GRAY);
    g.setStroke(new BasicStroke(1f));
    g.drawRect(x, y, boxWidth, rowHeight * names.size() + 8);
    int row = 0;
    for (Series s : series) {
      int cy = y + 4 + row * rowHeight + rowHeight / 2;
      g.setColor(s.color());
      g.setStroke(solid);
      g.drawLine(x + 8, cy, x + 32, cy);
      if (s.markers()) {
        g.fill(new Ellipse2D.Double(x + 16.5, cy - 3.5, 7, 7));
      }
      legendText(g, fm, s.name(), x + 38, cy);
      row++;
    }
    for (Reference r : references) {
      int cy = y + 4 + row * rowHeight + rowHeight / 2;
      g.setColor(r.color());
      g.setStroke(dashed);
      g.drawLine(x + 8, cy, x + 32, cy);
      legendText(g, fm, r.name(), x + 38, cy);
      row++;
    }
  }

  private static void legendText(Graphics2D g, FontMetrics fm, String text, int x, int centreY) {
    g.setColor(Color.BLACK);
    g.drawString(text, x, centreY + fm.getAscent() / 2 - 1);
  }

  /** The plot area in pixels and the data range it shows. */
  private record Frame(int left, int right, int top, int bottom, double x0, double x1, double y0, double y1) {
    double pxExact(double x) {
      return left + (x - x0) / (x1 - x0) * (right - left);
    }

    double pyExact(double y) {
      return bottom - (y - y0) / (y1 - y0) * (bottom - top);
    }

    int px(double x) {
      return (int) Math.round(pxExact(x));
    }

    int py(double y) {
      return (int) Math.round(pyExact(y));
    }
  }

  private Frame frame(int width, int height) {
    double xLo = Double.POSITIVE_INFINITY;
    double xHi = Double.NEGATIVE_INFINITY;
    double yLo = Double.POSITIVE_INFINITY;
    double yHi = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (int i = 0; i < s.x().length; i++) {
        if (Double.isFinite(s.x()[i]) && Double.isFinite(s.y()[i])) {
          xLo = Math.min(xLo, s.x()[i]);
          xHi = Math.max(xHi, s.x()[i]);
          yLo = Math.min(yLo, s.y()[i]);
          yHi = Math.max(yHi, s.y()[i]);
        }
      }
    }
    for (Reference r : references) {
      if (Double.isFinite(r.y())) {
        yLo = Math.min(yLo, r.y());
        yHi = Math.max(yHi, r.y());
      }
    }
    if (xLo > xHi) {
      xLo = 0;
      xHi = 1;
    }
    if (yLo > yHi) {
      yLo = 0;
      yHi = 1;
    }
    double[] xs = widen(xLo, xHi, 0.0);
    double[] ys = yMin != null ? new double[] {yMin, yMax} : widen(yLo, yHi, 0.05);
    return new Frame(LEFT, width - RIGHT, TOP, height - BOTTOM, xs[0], xs[1], ys[0], ys[1]);
  }

  /** [lo, hi] padded by {@code pad} of its width; a single value gets a unit-wide range. */
  private static double[] widen(double lo, double hi, double pad) {
    if (hi - lo <= 1e-12 * Math.max(1, Math.abs(hi))) {
      double half = Math.max(0.5, Math.abs(hi) * 0.1);
      return new double[] {lo - half, hi + half};
    }
    double p = (hi - lo) * pad;
    return new double[] {lo - p, hi + p};
  }

  /** About {@value #TICKS} tick values at 1, 2 or 5 × 10^k inside [lo, hi]. */
  static double[] ticks(double lo, double hi) {
    double raw = (hi - lo) / TICKS;
    double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    double step = magnitude * (raw / magnitude < 1.5 ? 1 : raw / magnitude < 3.5 ? 2 : raw / magnitude < 7.5 ? 5 : 10);
    List<Double> out = new ArrayList<>();
    for (double t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) {
      out.add(Math.abs(t) < step * 1e-9 ? 0.0 : t);
    }
    return out.stream().mapToDouble(Double::doubleValue).toArray();
  }

  /** Enough decimals to tell neighbouring ticks apart. */
  private static String format(double value, double[] ticks) {
    double step = ticks.length > 1 ? ticks[1] - ticks[0] : 1;
    int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
    StringBuilder pattern = new StringBuilder("#,##0");
    if (decimals > 0) {
      pattern.append('.').append("0".repeat(decimals));
    }
    return new DecimalFormat(pattern.toString(), DecimalFormatSymbols.getInstance(Locale.ROOT)).format(value);
  }
}
