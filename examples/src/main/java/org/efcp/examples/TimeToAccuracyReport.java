package org.efcp.examples;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The Markdown report of a time-to-accuracy run: the run's context (one bullet per entry), the target (the first
 * ladder's), the fit that sets it unless it was given, one table row per fit of every ladder, and each ladder's
 * time to target with its ratio to the first ladder's (the reference).
 */
final class TimeToAccuracyReport {

  /** The file {@link #write} creates. */
  static final String FILE = "report.md";

  private final String title;
  private final Map<String, String> context;
  private final String accuracyName;
  private final AccuracyLadder.Fit targetFit;
  private final List<AccuracyLadder> ladders;

  /**
   * @param title the heading
   * @param context bullets in order, e.g. {@code date}, {@code BLAS}
   * @param accuracyName what the accuracy was measured on, e.g. {@code test accuracy}
   * @param targetFit the long fit whose accuracy is the target unless the ladders were given another one
   * @param ladders the ladders, the reference first
   */
  TimeToAccuracyReport(String title, Map<String, String> context, String accuracyName, AccuracyLadder.Fit targetFit,
      List<AccuracyLadder> ladders) {
    if (ladders.isEmpty()) {
      throw new IllegalArgumentException("ladders: a report needs at least the reference ladder");
    }
    this.title = title;
    this.context = new LinkedHashMap<>(context);
    this.accuracyName = accuracyName;
    this.targetFit = targetFit;
    this.ladders = List.copyOf(ladders);
  }

  /** The reference ladder's time to target over {@code ladder}'s, or empty when either did not reach it. */
  Optional<Double> ratio(AccuracyLadder ladder) {
    Optional<AccuracyLadder.Fit> reference = ladders.get(0).firstReaching();
    Optional<AccuracyLadder.Fit> own = ladder.firstReaching();
    if (reference.isEmpty() || own.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(own.get().fitSeconds() / reference.get().fitSeconds());
  }

  String markdown() {
    StringBuilder sb = new StringBuilder("# ").append(title).append("\n\n");
    context.forEach((k, v) -> sb.append("- ").append(k).append(": ").append(v).append('\n'));
    double target = ladders.get(0).target();
    boolean setByFit = target == targetFit.accuracy();
    sb.append(String.format(Locale.ROOT, "- target: %s %.4f, %s%n%n", accuracyName, target, setByFit
        ? "that of the " + targetFit.method() + " fit with " + targetFit.budget() : "given (--target)"));
    sb.append("| method | setting | budget | iterations | fit (s) | ").append(accuracyName)
        .append(" | reached target? |\n");
    sb.append("|---|---|---|---|---|---|---|\n");
    row(sb, targetFit, setByFit ? "sets the target" : targetFit.accuracy() >= target ? "yes" : "no");
    for (AccuracyLadder ladder : ladders) {
      for (AccuracyLadder.Fit f : ladder.fits()) {
        row(sb, f, ladder.reached(f) ? "yes" : "no");
      }
    }
    sb.append("\nTime to target (wall time of the first fit that reached it):\n\n");
    for (AccuracyLadder ladder : ladders) {
      Optional<AccuracyLadder.Fit> first = ladder.firstReaching();
      sb.append("- ").append(ladder.name()).append(": ");
      if (first.isEmpty()) {
        sb.append("not reached (last rung: ").append(ladder.fits().get(ladder.fits().size() - 1).budget())
            .append(")\n");
        continue;
      }
      sb.append(String.format(Locale.ROOT, "%.1f s (%s)", first.get().fitSeconds(), first.get().budget()));
      if (ladder != ladders.get(0)) {
        Optional<Double> r = ratio(ladder);
        sb.append(r.map(v -> String.format(Locale.ROOT, ", %.2f × %s", v, ladders.get(0).name()))
            .orElse(", no ratio: " + ladders.get(0).name() + " did not reach the target"));
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /** Writes {@link #FILE} into {@code dir} (created if needed) and returns its path. */
  Path write(Path dir) throws IOException {
    Files.createDirectories(dir);
    return Files.writeString(dir.resolve(FILE), markdown());
  }

  private static void row(StringBuilder sb, AccuracyLadder.Fit f, String reached) {
    sb.append(String.format(Locale.ROOT, "| %s | %s | %s | %d | %.1f | %.4f | %s |%n", f.method(), f.setting(),
        f.budget(), f.iterations(), f.fitSeconds(), f.accuracy(), reached));
  }
}
