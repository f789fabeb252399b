package org.efcp.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The rows of {@link BaselineComparison}: one per fit, written as a Markdown table and as CSV.
 */
final class ComparisonTable {

  /**
   * One fit.
   *
   * @param method who trained it, e.g. {@code efcp sparse-mfac} or {@code mllib l-bfgs}
   * @param model {@code LR} or {@code MLP 784-256-10}
   * @param epochs passes over the training data the fit was given (EFCP), or 0 when it is bounded by iterations
   * @param iterations optimizer steps (EFCP: mini-batches; MLlib: L-BFGS iterations) the fit ran
   * @param fitSeconds wall time of {@code fit()}, s (data cached, evaluation not included)
   * @param testAccuracy fraction of the test rows predicted correctly
   * @param trainingLoss mean cross-entropy (natural log) of the fitted model over the training rows, computed
   *     the same way for every method from its predicted probabilities
   */
  record Row(String method, String model, int epochs, long iterations, double fitSeconds, double testAccuracy,
      double trainingLoss) {
  }

  static final String CSV_HEADER = "method,model,epochs,iterations,fit_seconds,test_accuracy,final_training_loss";

  private final List<Row> rows = new ArrayList<>();

  void add(Row row) {
    rows.add(row);
  }

  List<Row> rows() {
    return List.copyOf(rows);
  }

  /** A GitHub Markdown table, one line per row, in the order added. */
  String markdown() {
    StringBuilder sb = new StringBuilder();
    sb.append("| method | model | epochs | iterations | fit (s) | test accuracy | final training loss |\n");
    sb.append("|---|---|---|---|---|---|---|\n");
    for (Row r : rows) {
      sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %d | %.1f | %.4f | %.4f |\n", r.method(), r.model(),
          r.epochs() == 0 ? "–" : Integer.toString(r.epochs()), r.iterations(), r.fitSeconds(), r.testAccuracy(),
          r.trainingLoss()));
    }
    return sb.toString();
  }

  /** RFC 4180 CSV with {@link #CSV_HEADER}; an empty epochs field for iteration-bounded fits. */
  String csv() {
    StringBuilder sb = new StringBuilder(CSV_HEADER).append('\n');
    for (Row r : rows) {
      sb.append(String.format(Locale.ROOT, "%s,%s,%s,%d,%.3f,%.4f,%.6f\n", csvField(r.method()),
          csvField(r.model()), r.epochs() == 0 ? "" : Integer.toString(r.epochs()), r.iterations(), r.fitSeconds(),
          r.testAccuracy(), r.trainingLoss()));
    }
    return sb.toString();
  }

  /** Writes {@code comparison.md} and {@code comparison.csv} into {@code dir} (created if needed). */
  void write(Path dir) throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("comparison.md"), markdown());
    Files.writeString(dir.resolve("comparison.csv"), csv());
  }

  private static String csvField(String s) {
    if (s.contains(",") || s.contains("\"") || s.contains("\n")) {
      return '"' + s.replace("\"", "\"\"") + '"';
    }
    return s;
  }
}
