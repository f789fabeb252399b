package org.efcp.examples;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.RecordComponent;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;
import org.efcp.ml.classification.EFCPClassificationSummary;
import org.efcp.ml.classification.EFCPTrainingSummary;
import org.efcp.ml.train.StepRecord;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What a linear-probing run writes besides the model: {@code metrics.json} and the {@code loss.png} and
 * {@code accuracy.png} plots. Non-finite numbers (metrics not measured at a step) are written as JSON null.
 *
 * <p>{@code metrics.json} holds: {@code job}; {@code spark} (version, master, default_parallelism); {@code data}
 * (source and paths or synthetic settings, train_rows, test_rows, num_features, num_classes, partitions);
 * {@code estimator} (class name); {@code params} (every defined estimator param under its Spark name);
 * {@code fit} (seconds, training_seconds, iterations, device, optimizer_memory_bytes, objective_history per
 * epoch, steps: one object per optimizer step with the fields of {@code StepRecord} in snake_case);
 * {@code train} (accuracy, sampled_fraction); {@code test} (accuracy, chance_accuracy, weighted precision, recall
 * and F1, recall_by_class_quantiles, per_class labels/precision/recall/f1); {@code seconds} (load, fit, evaluate,
 * write, total wall times of the job's phases).
 */
final class ProbeReport {

  private static final int PLOT_WIDTH = 960;
  private static final int PLOT_HEIGHT = 560;

  private final ObjectMapper mapper = new ObjectMapper();
  private final ObjectNode root = mapper.createObjectNode();

  ProbeReport() {
    root.put("job", "LinearProbing");
  }

  /** The JSON document; callers add their own sections. */
  ObjectNode root() {
    return root;
  }

  /** Every defined param of {@code estimator}, under its Spark name ({@code stepSize}), set or default. */
  void params(Params estimator) {
    ObjectNode out = root.putObject("params");
    for (Param<?> p : estimator.params()) {
      if (!estimator.isDefined(p)) {
        continue;
      }
      Object v = estimator.getOrDefault(p);
      if (v instanceof Double d) {
        number(out, p.name(), d);
      } else if (v instanceof Number n) {
        out.put(p.name(), n.longValue());
      } else if (v instanceof Boolean b) {
        out.put(p.name(), b);
      } else if (v instanceof double[] a) {
        ArrayNode arr = out.putArray(p.name());
        Arrays.stream(a).forEach(x -> number(arr, x));
      } else {
        out.put(p.name(), String.valueOf(v));
      }
    }
  }

  /**
   * The fit: wall times, optimizer state, per-epoch objective and every step's record (its fields in
   * snake_case: {@code learning_rate}, {@code aggregate_millis}, ...).
   */
  void fit(EFCPTrainingSummary summary) {
    ObjectNode out = root.putObject("fit");
    out.put("seconds", summary.fitSeconds());
    out.put("training_seconds", summary.trainingSeconds());
    out.put("iterations", summary.totalIterations());
    out.put("device", summary.device());
    out.put("optimizer_memory_bytes", summary.optimizerMemoryBytes());
    ArrayNode objective = out.putArray("objective_history");
    Arrays.stream(summary.objectiveHistory()).forEach(x -> number(objective, x));
    ArrayNode steps = out.putArray("steps");
    for (StepRecord r : summary.steps()) {
      ObjectNode s = steps.addObject();
      for (RecordComponent c : StepRecord.class.getRecordComponents()) {
        Object v = component(r, c);
        String name = snakeCase(c.getName());
        if (v instanceof Double d) {
          number(s, name, d);
        } else if (v instanceof Boolean b) {
          s.put(name, b);
        } else {
          s.put(name, ((Number) v).longValue());
        }
      }
    }
  }

  /** Test-set metrics: accuracy, chance level, weighted and per-class precision/recall/F1. */
  void test(EFCPClassificationSummary test, int numClasses) {
    ObjectNode out = root.putObject("test");
    out.put("accuracy", test.accuracy());
    out.put("chance_accuracy", 1.0 / numClasses);
    number(out, "weighted_precision", test.weightedPrecision());
    number(out, "weighted_recall", test.weightedRecall());
    number(out, "weighted_f1", test.weightedFMeasure());
    double[] recall = test.recallByLabel();
    double[] sorted = recall.clone();
    Arrays.sort(sorted);
    ObjectNode q = out.putObject("recall_by_class_quantiles");
    number(q, "min", quantile(sorted, 0));
    number(q, "q25", quantile(sorted, 0.25));
    number(q, "median", quantile(sorted, 0.5));
    number(q, "q75", quantile(sorted, 0.75));
    number(q, "max", quantile(sorted, 1));
    ObjectNode per = out.putObject("per_class");
    array(per, "labels", test.labels());
    array(per, "precision", test.precisionByLabel());
    array(per, "recall", recall);
    array(per, "f1", test.fMeasureByLabel());
  }

  /** Writes the document, pretty-printed. */
  void writeJson(Path file) throws IOException {
    mapper.writerWithDefaultPrettyPrinter().writeValue(file.toFile(), root);
  }

  /** Per-step mini-batch loss and, at the middle step of each epoch, the epoch objective. */
  static void lossChart(EFCPTrainingSummary summary, String subtitle, Path file) throws IOException {
    List<StepRecord> steps = summary.steps();
    double[] x = new double[steps.size()];
    double[] loss = new double[steps.size()];
    for (int i = 0; i < x.length; i++) {
      x[i] = steps.get(i).step() + 1;
      loss[i] = steps.get(i).loss();
    }
    double[] objective = summary.objectiveHistory();
    double[] mid = new double[objective.length];
    for (int e = 0; e < objective.length; e++) {
      int epoch = e + 1;
      mid[e] = steps.stream().filter(s -> s.epoch() == epoch).mapToDouble(s -> s.step() + 1).average().orElse(Double.NaN);
    }
    new LineChart("Training loss — " + subtitle, "optimizer step", "cross-entropy (nats)")
        .line("mini-batch loss (before the step)", x, loss, LineChart.BLUE, x.length <= 60)
        .line("epoch objective (mean over the epoch)", mid, objective, LineChart.ORANGE, true)
        .writePng(file, PLOT_WIDTH, PLOT_HEIGHT);
  }

  /**
   * Test recall of each class, sorted from best to worst, with the overall test accuracy, the training accuracy
   * and chance as reference lines.
   */
  static void accuracyChart(EFCPClassificationSummary test, double trainAccuracy, int numClasses, String subtitle,
      Path file) throws IOException {
    double[] recall = test.recallByLabel();
    Arrays.sort(recall);
    double[] x = new double[recall.length];
    double[] y = new double[recall.length];
    for (int i = 0; i < recall.length; i++) {
      x[i] = i + 1;
      y[i] = recall[recall.length - 1 - i];
    }
    new LineChart("Accuracy after the fit — " + subtitle, "class, ranked by test accuracy", "accuracy")
        .line("test accuracy of the class (recall)", x, y, LineChart.BLUE, x.length <= 60)
        .reference(String.format(Locale.ROOT, "test accuracy, all classes: %.4f", test.accuracy()),
            test.accuracy(), LineChart.ORANGE)
        .reference(String.format(Locale.ROOT, "training accuracy: %.4f", trainAccuracy), trainAccuracy,
            LineChart.GREEN)
        .reference(String.format(Locale.ROOT, "chance: %.4f", 1.0 / numClasses), 1.0 / numClasses, LineChart.GREY)
        .yRange(0, 1.05)
        .writePng(file, PLOT_WIDTH, PLOT_HEIGHT);
  }

  /** Linear interpolation between order statistics of {@code sorted}. */
  static double quantile(double[] sorted, double q) {
    if (sorted.length == 0) {
      return Double.NaN;
    }
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(sorted.length - 1, lo + 1);
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
  }

  static void number(ObjectNode node, String name, double v) {
    if (Double.isFinite(v)) {
      node.put(name, v);
    } else {
      node.putNull(name);
    }
  }

  private static void number(ArrayNode node, double v) {
    if (Double.isFinite(v)) {
      node.add(v);
    } else {
      node.addNull();
    }
  }

  private static void array(ObjectNode node, String name, double[] values) {
    ArrayNode arr = node.putArray(name);
    for (double v : values) {
      number(arr, v);
    }
  }

  private static Object component(StepRecord r, RecordComponent c) {
    try {
      return c.getAccessor().invoke(r);
    } catch (IllegalAccessException | InvocationTargetException e) {
      throw new IllegalStateException("StepRecord." + c.getName(), e);
    }
  }

  /** {@code learningRate} → {@code learning_rate}. */
  static String snakeCase(String camel) {
    StringBuilder sb = new StringBuilder();
    for (char ch : camel.toCharArray()) {
      if (Character.isUpperCase(ch)) {
        sb.append('_').append(Character.toLowerCase(ch));
      } else {
        sb.append(ch);
      }
    }
    return sb.toString();
  }
}
