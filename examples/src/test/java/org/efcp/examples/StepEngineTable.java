package org.efcp.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The rows of {@link StepEngineBenchmark}: one per master, model and variant, the job and the stream engine side
 * by side, as a Markdown table. Times are in ms; a ratio is jobs / stream (how many times cheaper the stream
 * engine is).
 */
final class StepEngineTable {

  /**
   * One configuration.
   *
   * @param master "local[2]" or "standalone, 2 executors"
   * @param model e.g. "LR 784→10"
   * @param d number of parameters
   * @param variant "zero" (no gradient compute) or "real"
   * @param batch rows per step (whole cluster)
   * @param jobs the job engine's timings, or null when it did not run
   * @param stream the stream engine's timings, or null when it did not run
   * @param note failures and other remarks, "" for none
   */
  record Row(String master, String model, int d, String variant, int batch, StepTimings jobs, StepTimings stream,
      String note) {
  }

  static final String HEADER = "| master | model | d | variant | batch | steps | transport jobs (bcast + agg) "
      + "| transport stream (bcast + agg) | transport jobs/stream | optimizer jobs / stream | step wall jobs "
      + "| step wall stream | wall jobs/stream | note |\n"
      + "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|\n";

  private final List<Row> rows = new ArrayList<>();

  void add(Row row) {
    rows.add(row);
  }

  List<Row> rows() {
    return List.copyOf(rows);
  }

  /** A GitHub Markdown table, one line per row in the order added; "–" where an engine did not run. */
  String markdown() {
    StringBuilder sb = new StringBuilder(HEADER);
    for (Row r : rows) {
      sb.append(line(r)).append('\n');
    }
    return sb.toString();
  }

  static String line(Row r) {
    StepTimings j = r.jobs();
    StepTimings s = r.stream();
    int steps = j != null ? j.steps() : s != null ? s.steps() : 0;
    return String.format(Locale.ROOT, "| %s | %s | %,d | %s | %d | %d | %s | %s | %s | %s / %s | %s | %s | %s | %s |",
        r.master(), r.model(), r.d(), r.variant(), r.batch(), steps, transport(j, "jobs"), transport(s, "stream"),
        ratio(j == null ? Double.NaN : j.transport(), s == null ? Double.NaN : s.transport()),
        j == null ? "–" : ms(j.optimizer()), s == null ? "–" : ms(s.optimizer()),
        j == null ? "–" : ms(j.wall()), s == null ? "–" : ms(s.wall()),
        ratio(j == null ? Double.NaN : j.wall(), s == null ? Double.NaN : s.wall()), r.note());
  }

  /** "50.3 (1.2 + 49.1)", marked when another engine ran than the column's. */
  private static String transport(StepTimings t, String column) {
    if (t == null) {
      return "–";
    }
    String cell = ms(t.transport()) + " (" + ms(t.broadcast()) + " + " + ms(t.aggregate()) + ")";
    return t.engine().equals(column) ? cell : cell + " [ran " + t.engine() + "]";
  }

  /** Milliseconds: two decimals below 10 ms, one above. */
  static String ms(double v) {
    return String.format(Locale.ROOT, v < 10 ? "%.2f" : "%.1f", v);
  }

  /** "4.2×", or "–" when either side is missing or the denominator is not positive. */
  static String ratio(double jobs, double stream) {
    if (Double.isNaN(jobs) || Double.isNaN(stream) || !(stream > 0)) {
      return "–";
    }
    return String.format(Locale.ROOT, "%.1f×", jobs / stream);
  }
}
