package org.efcp.optim.gpu;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Benchmark main (not a test; bin/gpu-checks runs it last): reads the JSON lines of {@link GpuStepBench},
 * {@code GpuGradientBench} and {@code examples/src/main/python/torch_gpu_baseline.py} from the files given as
 * arguments (any other line is skipped) and prints a markdown table. One row per issue measurement: ours (the
 * {@code api=device} median, else the {@code device_pipelined} mean), the PyTorch baselines on the same card
 * ({@code authors_algorithm} and {@code pytorch_best}), how many times slower each is than ours, and the issue's
 * target with met / not met; "—" where a line is missing. Then every other timed {@code gpu_*} line as an "ours
 * only" row, and notes: the card(s), the PyTorch self-check, skipped or failed baseline parts. When a file holds a
 * measurement twice, the last line counts. Our lines of a comparison that name their m×m kernel
 * ({@code "mxm_kernel"}, GpuStepBench's dense lines, and {@code "combine"}, the dense combination's schedule) give
 * one row per kernel and schedule, labelled with them, each against the same baselines and target; lines without
 * them (older output) give the one unlabelled row.
 */
public final class GpuBenchTable {
  private static final String NONE = "—";
  /** The descriptive fields that tell apart the lines of one bench in the "ours only" rows. */
  private static final List<String> DESCRIPTORS =
      List.of("api", "mxm_kernel", "combine", "form", "precision", "model", "layout", "op");

  /** An issue measurement: ours and the PyTorch lines to compare, and the target (NaN: none). */
  private record Comparison(String label, String oursBench, Predicate<Map<String, Object>> ours, String torchBench,
      Predicate<Map<String, Object>> torch, double targetMs) {}

  private static final List<Comparison> COMPARISONS = List.of(
      new Comparison("sparse M-FAC step (d 769,000, m 1024, k 1 %)", "gpu_sparse_mfac_step", l -> true,
          "torch_sparse_mfac_step", l -> true, 0.5),
      new Comparison("dense M-FAC step (d 769,000, m 1024)", "gpu_dense_mfac_step", l -> true,
          "torch_dense_mfac_step", l -> true, 2.0),
      new Comparison("LR gradient (8192 × 768 → 1000, fp32)", "gpu_lr_gradient",
          l -> deviceResident(l) && precision(l).equals("fp32"), "torch_lr_gradient",
          l -> precision(l).equals("fp32"), 1.05),
      new Comparison("LR gradient (8192 × 768 → 1000, TF32)", "gpu_lr_gradient",
          l -> deviceResident(l) && precision(l).equals("tf32"), "torch_lr_gradient",
          l -> precision(l).equals("tf32"), Double.NaN));

  private GpuBenchTable() {}

  public static void main(String[] args) throws IOException {
    List<String> lines = new ArrayList<>();
    for (String file : args) {
      // Decoded leniently: the file also holds whatever the runs wrote to stderr.
      lines.addAll(new String(Files.readAllBytes(Path.of(file)), StandardCharsets.UTF_8).lines().toList());
    }
    System.out.print(table(lines));
  }

  /** The markdown table and notes for these output lines. */
  static String table(List<String> lines) {
    List<Map<String, Object>> records = lines.stream().map(GpuBenchTable::parse).flatMap(Optional::stream).toList();
    Set<Map<String, Object>> shown = Collections.newSetFromMap(new IdentityHashMap<>());
    StringBuilder out = new StringBuilder();
    cards(records).ifPresent(c -> out.append("GPU benchmarks on ").append(c).append("\n\n"));
    out.append("| measurement | ours ms | torch authors' algorithm ms | torch best ms | authors ÷ ours "
        + "| best ÷ ours | target | met |\n|---|---|---|---|---|---|---|---|\n");
    for (Comparison c : byVariant(records)) {
      Optional<Map<String, Object>> ours = ours(records, c);
      ours.ifPresent(shown::add);
      Double oursMs = ours.map(GpuBenchTable::millis).orElse(null);
      Double authors = torch(records, c, "authors_algorithm").map(GpuBenchTable::millis).orElse(null);
      Double best = torch(records, c, "pytorch_best").map(GpuBenchTable::millis).orElse(null);
      String oursCell = ours.map(l -> ms(oursMs) + (isPipelined(l) ? " (pipelined)" : "")).orElse(NONE);
      boolean hasTarget = !Double.isNaN(c.targetMs());
      row(out, c.label(), oursCell, ms(authors), ms(best), ratio(authors, oursMs), ratio(best, oursMs),
          hasTarget ? String.format(Locale.ROOT, "≤ %s ms", c.targetMs()) : NONE,
          !hasTarget || oursMs == null ? NONE : oursMs <= c.targetMs() ? "met" : "not met");
    }
    for (Map<String, Object> l : records) {
      if (str(l, "bench").startsWith("gpu_") && !shown.contains(l) && millis(l) != null) {
        row(out, label(l), ms(millis(l)) + (l.containsKey("median_ms") ? "" : " (mean)"), NONE, NONE, NONE, NONE,
            NONE, "ours only");
      }
    }
    notes(records, out);
    return out.toString();
  }

  /**
   * The comparisons, each split into one per m×m kernel and combination its lines name ({@link #variant}, in the
   * order they first appear; lines without them form their own, unlabelled one).
   */
  private static List<Comparison> byVariant(List<Map<String, Object>> records) {
    List<Comparison> out = new ArrayList<>();
    for (Comparison c : COMPARISONS) {
      Set<String> variants = new LinkedHashSet<>();
      records.stream().filter(l -> str(l, "bench").equals(c.oursBench()) && c.ours().test(l))
          .forEach(l -> variants.add(variant(l)));
      if (variants.isEmpty() || variants.equals(Set.of(""))) {
        out.add(c);
        continue;
      }
      for (String k : variants) {
        out.add(new Comparison(k.isEmpty() ? c.label() : c.label() + ", m×m kernel " + k, c.oursBench(),
            c.ours().and(l -> variant(l).equals(k)), c.torchBench(), c.torch(), c.targetMs()));
      }
    }
    return out;
  }

  /** A line's m×m kernel and combination, e.g. {@code rows, overlapped combination}; "" if it names neither. */
  private static String variant(Map<String, Object> l) {
    String combine = str(l, "combine");
    return combine.isEmpty() ? str(l, "mxm_kernel") : str(l, "mxm_kernel") + ", " + combine + " combination";
  }

  /** Ours for a comparison: the last api=device line (LR lines have no api), else the last pipelined one. */
  private static Optional<Map<String, Object>> ours(List<Map<String, Object>> records, Comparison c) {
    Predicate<Map<String, Object>> matches = l -> str(l, "bench").equals(c.oursBench()) && c.ours().test(l);
    return last(records, l -> matches.test(l) && (str(l, "api").isEmpty() || str(l, "api").equals("device"))
        && num(l, "median_ms") != null)
        .or(() -> last(records, l -> matches.test(l) && isPipelined(l) && num(l, "mean_ms") != null));
  }

  /** A PyTorch line of the comparison; the LR lines have no variant and count as the best one. */
  private static Optional<Map<String, Object>> torch(List<Map<String, Object>> records, Comparison c,
      String variant) {
    return last(records, l -> str(l, "bench").equals(c.torchBench()) && c.torch().test(l)
        && (str(l, "variant").isEmpty() ? variant.equals("pytorch_best") : str(l, "variant").equals(variant)));
  }

  /** The card names of the GPU lines, ours first. */
  private static Optional<String> cards(List<Map<String, Object>> records) {
    Set<String> names = new LinkedHashSet<>();
    for (String prefix : List.of("gpu_", "torch_")) {
      records.stream().filter(l -> str(l, "bench").startsWith(prefix) && !str(l, "device").isEmpty()
          && !str(l, "device").equals("cpu")).forEach(l -> names.add(str(l, "device")));
    }
    return names.isEmpty() ? Optional.empty() : Optional.of(String.join(" / ", names));
  }

  /** The PyTorch self-check's summary and every skipped or failed baseline part. */
  private static void notes(List<Map<String, Object>> records, StringBuilder out) {
    List<Map<String, Object>> checks = records.stream().filter(l -> str(l, "bench").equals("torch_self_check"))
        .toList();
    List<String> notes = new ArrayList<>();
    if (!checks.isEmpty()) {
      double worst = checks.stream().map(l -> num(l, "max_rel_err")).filter(Objects::nonNull)
          .mapToDouble(Double::doubleValue).max().orElse(Double.NaN);
      List<String> failed = checks.stream().filter(l -> !Boolean.TRUE.equals(l.get("ok")))
          .map(l -> String.join(" ", str(l, "kind"), str(l, "variant"), str(l, "dtype"))).toList();
      notes.add(String.format(Locale.ROOT, "PyTorch self-check: %d variants, max relative error %.1e: %s",
          checks.size(), worst, failed.isEmpty() ? "all within tolerance" : "FAILED " + String.join(", ", failed)));
    }
    for (Map<String, Object> l : records) {
      if (str(l, "bench").equals("torch_baseline")) {
        notes.add(l.containsKey("skipped") ? "PyTorch baselines skipped: " + str(l, "skipped")
            : "PyTorch baseline " + str(l, "part") + " failed: " + str(l, "error"));
      }
    }
    if (!notes.isEmpty()) {
      out.append('\n');
      notes.forEach(n -> out.append("* ").append(n).append('\n'));
    }
  }

  private static Optional<Map<String, Object>> last(List<Map<String, Object>> records,
      Predicate<Map<String, Object>> p) {
    Map<String, Object> found = null;
    for (Map<String, Object> l : records) {
      if (p.test(l)) {
        found = l;
      }
    }
    return Optional.ofNullable(found);
  }

  private static void row(StringBuilder out, String... cells) {
    out.append("| ").append(String.join(" | ", cells)).append(" |\n");
  }

  /** The bench name and its descriptive fields, e.g. {@code gpu_lr_gradient form=host-arrays}. */
  private static String label(Map<String, Object> l) {
    StringBuilder s = new StringBuilder(str(l, "bench"));
    DESCRIPTORS.stream().filter(l::containsKey).forEach(k -> s.append(' ').append(k).append('=').append(str(l, k)));
    return s.toString();
  }

  /** The median, else the mean (pipelined lines), in ms; null if the line has neither. */
  private static Double millis(Map<String, Object> l) {
    Double median = num(l, "median_ms");
    return median != null ? median : num(l, "mean_ms");
  }

  private static String ms(Double ms) {
    if (ms == null) {
      return NONE;
    }
    return String.format(Locale.ROOT, ms < 1 ? "%.3f" : ms < 100 ? "%.2f" : "%.1f", ms);
  }

  /** How many times {@code baseline} is ours, e.g. 98.1×. */
  private static String ratio(Double baseline, Double ours) {
    if (baseline == null || ours == null || ours <= 0) {
      return NONE;
    }
    double r = baseline / ours;
    return String.format(Locale.ROOT, r < 10 ? "%.2f×" : "%.1f×", r);
  }

  private static boolean isPipelined(Map<String, Object> l) {
    return str(l, "api").equals("device_pipelined");
  }

  private static boolean deviceResident(Map<String, Object> l) {
    return str(l, "form").equals("device-resident");
  }

  /** The line's precision; our FP32 lines have none. */
  private static String precision(Map<String, Object> l) {
    return l.containsKey("precision") ? str(l, "precision") : "fp32";
  }

  /** A field as text ("" if absent or null). */
  private static String str(Map<String, Object> l, String key) {
    Object v = l.get(key);
    return v == null ? "" : v instanceof Double d && d == Math.rint(d) && !d.isInfinite()
        ? Long.toString(d.longValue()) : v.toString();
  }

  private static Double num(Map<String, Object> l, String key) {
    return l.get(key) instanceof Double d ? d : null;
  }

  /**
   * A flat JSON object (string, number, boolean and null values) as an ordered map; empty for any other line.
   * Numbers are read leniently (Java's printf writes NaN).
   */
  static Optional<Map<String, Object>> parse(String line) {
    String s = line.strip();
    if (!s.startsWith("{") || !s.endsWith("}")) {
      return Optional.empty();
    }
    try {
      return Optional.of(new FlatObject(s).read());
    } catch (IllegalArgumentException | IndexOutOfBoundsException e) {
      return Optional.empty();
    }
  }

  /** A cursor over one flat JSON object; throws IllegalArgumentException (or runs off the end) on anything else. */
  private static final class FlatObject {
    private final String s;
    private int i;

    FlatObject(String s) {
      this.s = s;
    }

    Map<String, Object> read() {
      Map<String, Object> fields = new LinkedHashMap<>();
      expect('{');
      if (skipSpace() == '}') {
        i++;
      } else {
        char next;
        do {
          skipSpace();
          String key = string();
          skipSpace();
          expect(':');
          skipSpace();
          fields.put(key, value());
          next = skipSpace();
          i++;
        } while (next == ',');
        if (next != '}') {
          throw new IllegalArgumentException("expected , or }");
        }
      }
      if (i != s.length()) {
        throw new IllegalArgumentException("text after the object");
      }
      return fields;
    }

    private Object value() {
      char c = s.charAt(i);
      if (c == '"') {
        return string();
      }
      int start = i;
      while (i < s.length() && ",} \t".indexOf(s.charAt(i)) < 0) {
        i++;
      }
      String token = s.substring(start, i);
      return switch (token) {
        case "true" -> Boolean.TRUE;
        case "false" -> Boolean.FALSE;
        case "null" -> null;
        default -> Double.parseDouble(token); // NumberFormatException is an IllegalArgumentException
      };
    }

    private String string() {
      expect('"');
      StringBuilder sb = new StringBuilder();
      for (char c = s.charAt(i++); c != '"'; c = s.charAt(i++)) {
        if (c != '\\') {
          sb.append(c);
          continue;
        }
        char e = s.charAt(i++);
        switch (e) {
          case '"', '\\', '/' -> sb.append(e);
          case 'b' -> sb.append('\b');
          case 'f' -> sb.append('\f');
          case 'n' -> sb.append('\n');
          case 'r' -> sb.append('\r');
          case 't' -> sb.append('\t');
          case 'u' -> {
            sb.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
            i += 4;
          }
          default -> throw new IllegalArgumentException("bad escape \\" + e);
        }
      }
      return sb.toString();
    }

    /** Skips blanks; the character there (or 0 at the end). */
    private char skipSpace() {
      while (i < s.length() && Character.isWhitespace(s.charAt(i))) {
        i++;
      }
      return i < s.length() ? s.charAt(i) : 0;
    }

    private void expect(char c) {
      if (s.charAt(i++) != c) {
        throw new IllegalArgumentException("expected " + c);
      }
    }
  }
}
