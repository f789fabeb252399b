package org.efcp.notebooks;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * A line chart drawn with Java2D, for the notebooks: named series of (x, y) points on linear axes, with a title,
 * axis labels, ticks and a legend. A Jupyter Java kernel shows the returned {@link BufferedImage} as a PNG.
 * Needs no display ({@code java.awt.headless=true} is enough) but needs a font (fontconfig and one TrueType font).
 */
public final class LineChart {

  private static final Color[] PALETTE = {
      new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e), new Color(0x9467bd)};
  private static final int TICKS = 5;
  private static final int LEFT = 70;
  private static final int RIGHT = 20;
  private static final int TOP = 36;
  private static final int BOTTOM = 50;

  private final String title;
  private final String xLabel;
  private final String yLabel;
  private final List<Series> series = new ArrayList<>();

  private record Series(String name, double[] x, double[] y) {
  }

  /** An empty chart; {@link #add} its series. */
  public LineChart(String title, String xLabel, String yLabel) {
    this.title = title;
    this.xLabel = xLabel;
    this.yLabel = yLabel;
  }

  /**
   * Adds a series, drawn in the next palette colour (blue, red, green, orange, purple, then again).
   *
   * @param x the points' x values
   * @param y the points' y values, as many as x; a non-finite x or y leaves a gap in the line
   * @return this chart
   */
  public LineChart add(String name, double[] x, double[] y) {
    if (x.length != y.length) {
      throw new IllegalArgumentException("y: " + y.length + " values for " + x.length + " x values");
    }
    series.add(new Series(name, x.clone(), y.clone()));
    return this;
  }

  /** The chart as a 640×360 image. */
  public BufferedImage render() {
    return render(640, 360);
  }

  /**
   * The chart as an image of the given size in pixels, each at least 200.
   *
   * @throws IllegalStateException if no series has a finite point
   */
  public BufferedImage render(int width, int height) {
    if (width < 200) {
      throw new IllegalArgumentException("width: must be ≥ 200 pixels, got " + width);
    }
    if (height < 200) {
      throw new IllegalArgumentException("height: must be ≥ 200 pixels, got " + height);
    }
    double[] xr = range(true);
    double[] yr = range(false);
    BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, width, height);
      Plot plot = new Plot(LEFT, TOP, width - LEFT - RIGHT, height - TOP - BOTTOM, xr, yr);
      drawAxes(g, plot);
      for (int i = 0; i < series.size(); i++) {
        drawLine(g, plot, series.get(i), PALETTE[i % PALETTE.length]);
      }
      drawLegend(g, plot);
      drawTitles(g, width, height);
    } finally {
      g.dispose();
    }
    return image;
  }

  /** Pixel mapping of the plot area [left, left+w] × [top, top+h] onto the data ranges, y upwards. */
  private record Plot(int left, int top, int w, int h, double[] xr, double[] yr) {
    double px(double x) {
      return left + (x - xr[0]) / (xr[1] - xr[0]) * w;
    }

    double py(double y) {
      return top + h - (y - yr[0]) / (yr[1] - yr[0]) * h;
    }
  }

  /** [min, max] of the finite points' x (or y), widened to tick multiples; a single value gets a unit range. */
  private double[] range(boolean isX) {
    double lo = Double.POSITIVE_INFINITY;
    double hi = Double.NEGATIVE_INFINITY;
    for (Series s : series) {
      for (int i = 0; i < s.x.length; i++) {
        if (Double.isFinite(s.x[i]) && Double.isFinite(s.y[i])) {
          double v = isX ? s.x[i] : s.y[i];
          lo = Math.min(lo, v);
          hi = Math.max(hi, v);
        }
      }
    }
    if (lo > hi) {
      throw new IllegalStateException("LineChart '" + title + "' has no finite point to draw");
    }
    if (lo == hi) {
      lo -= 0.5;
      hi += 0.5;
    }
    double step = tickStep(lo, hi);
    return new double[] {Math.floor(lo / step) * step, Math.ceil(hi / step) * step};
  }

  /** The 1, 2 or 5 × 10^k step nearest to cutting [lo, hi] into {@link #TICKS} intervals. */
  static double tickStep(double lo, double hi) {
    double raw = (hi - lo) / TICKS;
    double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
    double f = raw / magnitude;
    return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * magnitude;
  }

  private static void drawAxes(Graphics2D g, Plot p) {
    FontMetrics fm = g.getFontMetrics();
    g.setColor(new Color(0xeeeeee));
    double xs = tickStep(p.xr[0], p.xr[1]);
    double ys = tickStep(p.yr[0], p.yr[1]);
    for (double t = p.xr[0]; t <= p.xr[1] + xs / 2; t += xs) {
      g.drawLine((int) p.px(t), p.top, (int) p.px(t), p.top + p.h);
    }
    for (double t = p.yr[0]; t <= p.yr[1] + ys / 2; t += ys) {
      g.drawLine(p.left, (int) p.py(t), p.left + p.w, (int) p.py(t));
    }
    g.setColor(Color.DARK_GRAY);
    g.drawRect(p.left, p.top, p.w, p.h);
    for (double t = p.xr[0]; t <= p.xr[1] + xs / 2; t += xs) {
      String s = label(t, xs);
      g.drawString(s, (int) p.px(t) - fm.stringWidth(s) / 2, p.top + p.h + fm.getAscent() + 4);
    }
    for (double t = p.yr[0]; t <= p.yr[1] + ys / 2; t += ys) {
      String s = label(t, ys);
      g.drawString(s, p.left - fm.stringWidth(s) - 6, (int) p.py(t) + fm.getAscent() / 2 - 1);
    }
  }

  /** A tick value with as many decimals as its step needs. */
  private static String label(double value, double step) {
    int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
    return String.format("%." + decimals + "f", Math.abs(value) < step / 2 ? 0.0 : value);
  }

  private static void drawLine(Graphics2D g, Plot p, Series s, Color color) {
    Path2D.Double path = new Path2D.Double();
    boolean pen = false;
    for (int i = 0; i < s.x.length; i++) {
      if (!Double.isFinite(s.x[i]) || !Double.isFinite(s.y[i])) {
        pen = false;
      } else if (pen) {
        path.lineTo(p.px(s.x[i]), p.py(s.y[i]));
      } else {
        path.moveTo(p.px(s.x[i]), p.py(s.y[i]));
        pen = true;
      }
    }
    g.setColor(color);
    g.setStroke(new BasicStroke(2f));
    g.draw(path);
    g.setStroke(new BasicStroke(1f));
  }

  private void drawLegend(Graphics2D g, Plot p) {
    FontMetrics fm = g.getFontMetrics();
    int y = p.top + 8;
    for (int i = 0; i < series.size(); i++) {
      String name = series.get(i).name;
      int x = p.left + p.w - fm.stringWidth(name) - 34;
      g.setColor(PALETTE[i % PALETTE.length]);
      g.fillRect(x, y + fm.getAscent() / 2 - 1, 20, 3);
      g.setColor(Color.DARK_GRAY);
      g.drawString(name, x + 26, y + fm.getAscent());
      y += fm.getHeight();
    }
  }

  private void drawTitles(Graphics2D g, int width, int height) {
    g.setColor(Color.BLACK);
    g.setFont(g.getFont().deriveFont(14f));
    FontMetrics fm = g.getFontMetrics();
    g.drawString(title, (width - fm.stringWidth(title)) / 2, 22);
    g.setFont(g.getFont().deriveFont(12f));
    fm = g.getFontMetrics();
    g.drawString(xLabel, LEFT + (width - LEFT - RIGHT - fm.stringWidth(xLabel)) / 2, height - 10);
    AffineTransform saved = g.getTransform();
    g.rotate(-Math.PI / 2);
    g.drawString(yLabel, -(TOP + (height - TOP - BOTTOM + fm.stringWidth(yLabel)) / 2), 16);
    g.setTransform(saved);
  }
}
