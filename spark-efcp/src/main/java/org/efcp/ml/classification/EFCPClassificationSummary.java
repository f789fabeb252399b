package org.efcp.ml.classification;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.io.Serializable;
import org.apache.spark.mllib.evaluation.MulticlassMetrics;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import scala.Tuple3;

/**
 * Classification quality of an EFCP model on a dataset, computed by Spark's {@link MulticlassMetrics} (the code
 * behind MLlib's summaries and {@code MulticlassClassificationEvaluator}) from the prediction, label and weight
 * columns. Metrics are computed by one Spark job on first use.
 */
public class EFCPClassificationSummary implements Serializable {
  private static final long serialVersionUID = 1L;

  private final transient Dataset<Row> predictions;
  private final String predictionCol;
  private final String labelCol;
  private final String weightCol;
  private transient MulticlassMetrics metrics;

  EFCPClassificationSummary(Dataset<Row> predictions, String predictionCol, String labelCol, String weightCol) {
    this.predictions = predictions;
    this.predictionCol = predictionCol;
    this.labelCol = labelCol;
    this.weightCol = weightCol == null ? "" : weightCol;
  }

  /** The dataset with the model's prediction columns. */
  public Dataset<Row> predictions() {
    return predictions;
  }

  public String predictionCol() {
    return predictionCol;
  }

  public String labelCol() {
    return labelCol;
  }

  /** The weight column, or "" for unweighted metrics. */
  public String weightCol() {
    return weightCol;
  }

  private synchronized MulticlassMetrics metrics() {
    if (metrics == null) {
      if (predictions == null) {
        throw new IllegalStateException("predictions: not available after deserialisation");
      }
      Dataset<Row> t = predictions.select(col(predictionCol).cast("double"), col(labelCol).cast("double"),
          weightCol.isEmpty() ? lit(1.0) : col(weightCol).cast("double"));
      metrics = new MulticlassMetrics(
          t.toJavaRDD().map(r -> new Tuple3<Object, Object, Object>(r.getDouble(0), r.getDouble(1), r.getDouble(2)))
              .rdd());
    }
    return metrics;
  }

  /** Fraction of (weighted) rows predicted correctly, in [0, 1]. */
  public double accuracy() {
    return metrics().accuracy();
  }

  /** The label values, ascending. */
  public double[] labels() {
    return metrics().labels();
  }

  /** Precision per label, in the order of {@link #labels()}. */
  public double[] precisionByLabel() {
    double[] labels = labels();
    double[] out = new double[labels.length];
    for (int i = 0; i < labels.length; i++) {
      out[i] = metrics().precision(labels[i]);
    }
    return out;
  }

  /** Recall (true-positive rate) per label, in the order of {@link #labels()}. */
  public double[] recallByLabel() {
    double[] labels = labels();
    double[] out = new double[labels.length];
    for (int i = 0; i < labels.length; i++) {
      out[i] = metrics().recall(labels[i]);
    }
    return out;
  }

  /** F1 per label, in the order of {@link #labels()}. */
  public double[] fMeasureByLabel() {
    double[] labels = labels();
    double[] out = new double[labels.length];
    for (int i = 0; i < labels.length; i++) {
      out[i] = metrics().fMeasure(labels[i], 1.0);
    }
    return out;
  }

  public double weightedPrecision() {
    return metrics().weightedPrecision();
  }

  public double weightedRecall() {
    return metrics().weightedRecall();
  }

  public double weightedFMeasure() {
    return metrics().weightedFMeasure();
  }

  /** Confusion matrix: rows are true labels, columns predictions, both in the order of {@link #labels()}. */
  public org.apache.spark.mllib.linalg.Matrix confusionMatrix() {
    return metrics().confusionMatrix();
  }
}
