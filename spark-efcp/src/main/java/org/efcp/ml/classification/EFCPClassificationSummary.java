package org.efcp.ml.classification;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.io.Serializable;
import java.util.Iterator;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.mllib.evaluation.MulticlassMetrics;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.efcp.ml.train.RowValues;
import org.efcp.ml.train.SparkErrors;
import scala.Tuple3;

/**
 * Classification quality of an EFCP model on a dataset, computed by Spark's {@link MulticlassMetrics} (the code
 * behind MLlib's summaries and {@code MulticlassClassificationEvaluator}) from the prediction, label and weight
 * columns. Metrics are computed by one Spark job on first use.
 *
 * <p>That job checks the rows as a fit does; the first metric asked for then throws an
 * {@link IllegalArgumentException} that names the column: a null label or one that is not a class index, a weight
 * that is null, negative or not finite, no rows at all, or weights that are all 0 (every metric would be NaN).
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
      String yName = "labelCol '" + labelCol + "'";
      String wName = "weightCol '" + weightCol + "'";
      JavaRDD<Tuple3<Object, Object, Object>> rows =
          t.toJavaRDD().mapPartitionsWithIndex((p, it) -> checked(p, it, yName, wName), true);
      MulticlassMetrics computed = new MulticlassMetrics(rows.rdd());
      double[] labels;
      try {
        labels = computed.labels(); // the one job; every metric derives from its confusion counts on the driver
      } catch (Exception e) {
        throw SparkErrors.inputError(e);
      }
      if (labels.length == 0) {
        throw new IllegalArgumentException("dataset: no rows to evaluate");
      }
      // Accuracy is Σ correct weight / Σ weight over weights checked finite and >= 0: NaN exactly when all are 0.
      // (Summing confusionMatrix() instead would build a k×k matrix, ~0.1 s for 1000 classes.)
      if (Double.isNaN(computed.accuracy())) {
        throw new IllegalArgumentException(wName + ": every weight is 0");
      }
      metrics = computed;
    }
    return metrics;
  }

  /** (prediction, label, weight) of one partition's rows, each label and weight checked as a fit checks them. */
  private static Iterator<Tuple3<Object, Object, Object>> checked(int partition, Iterator<Row> rows, String yName,
      String wName) {
    return new Iterator<>() {
      private int n;

      @Override
      public boolean hasNext() {
        return rows.hasNext();
      }

      @Override
      public Tuple3<Object, Object, Object> next() {
        Row r = rows.next();
        Tuple3<Object, Object, Object> out = new Tuple3<>(r.getDouble(0), RowValues.label(r, 1, yName, n, partition),
            RowValues.weight(r, 2, wName, n, partition));
        n++;
        return out;
      }
    };
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
