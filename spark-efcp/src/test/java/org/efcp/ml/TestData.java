package org.efcp.ml;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Small synthetic classification datasets for the Spark tests, as (label double, features vector) DataFrames
 * with an explicit number of partitions, so the partitioning does not depend on the master's parallelism.
 */
public final class TestData {
  public static final StructType SCHEMA =
      new StructType().add("label", DataTypes.DoubleType).add("features", new VectorUDT());

  private TestData() {}

  /** A local[n] session bound to loopback with the UI off. */
  public static SparkSession session(String master, String app) {
    SparkSession spark = SparkSession.builder().master(master).appName(app)
        .config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false").config("spark.sql.shuffle.partitions", "2").getOrCreate();
    return spark;
  }

  /**
   * Gaussian classes: class means drawn N(0, 1) per feature with {@code meansSeed}, rows mean + noise·N(0, 1)
   * drawn with {@code rowsSeed}; labels uniform.
   */
  public static Dataset<Row> gaussianClasses(SparkSession spark, int rows, int features, int classes,
      double noise, long meansSeed, long rowsSeed, int partitions) {
    Random m = new Random(meansSeed);
    double[][] means = new double[classes][features];
    for (double[] mean : means) {
      for (int j = 0; j < features; j++) {
        mean[j] = m.nextGaussian();
      }
    }
    Random rnd = new Random(rowsSeed);
    List<Row> out = new ArrayList<>(rows);
    for (int i = 0; i < rows; i++) {
      int y = rnd.nextInt(classes);
      double[] x = new double[features];
      for (int j = 0; j < features; j++) {
        x[j] = means[y][j] + noise * rnd.nextGaussian();
      }
      out.add(RowFactory.create((double) y, Vectors.dense(x)));
    }
    return frame(spark, out, partitions);
  }

  /**
   * Two concentric rings in the plane (label 0 inside, radius ≈ 1; label 1 outside, radius ≈ 2): no straight
   * line separates them, a small MLP does.
   */
  public static Dataset<Row> rings(SparkSession spark, int rows, long seed, int partitions) {
    Random rnd = new Random(seed);
    List<Row> out = new ArrayList<>(rows);
    for (int i = 0; i < rows; i++) {
      int y = rnd.nextInt(2);
      double r = (y == 0 ? 1.0 : 2.0) + 0.15 * rnd.nextGaussian();
      double a = 2 * Math.PI * rnd.nextDouble();
      out.add(RowFactory.create((double) y, Vectors.dense(r * Math.cos(a), r * Math.sin(a))));
    }
    return frame(spark, out, partitions);
  }

  /** The rows as a DataFrame sliced into exactly {@code partitions} partitions in list order. */
  public static Dataset<Row> frame(SparkSession spark, List<Row> rows, int partitions) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    return spark.createDataFrame(jsc.parallelize(rows, partitions), SCHEMA);
  }

  /** A logistic regression model's coefficients (row-major) followed by its intercepts. */
  public static double[] parameters(org.efcp.ml.classification.EFCPLogisticRegressionModel m) {
    double[] w = m.coefficientMatrix().toArray();
    double[] b = m.interceptVector().toArray();
    double[] all = java.util.Arrays.copyOf(w, w.length + b.length);
    System.arraycopy(b, 0, all, w.length, b.length);
    return all;
  }

  /** The fraction of rows whose prediction equals the label (MLlib's evaluator). */
  public static double accuracy(Dataset<Row> predictions) {
    return new org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator().setMetricName("accuracy")
        .evaluate(predictions);
  }

  /**
   * Fails unless max_i |actual_i − expected_i| ≤ tolerance · max_i |expected_i|; prints that relative difference
   * either way (what = the label of both).
   */
  public static void assertCloseRelative(String what, double[] expected, double[] actual, double tolerance) {
    org.junit.jupiter.api.Assertions.assertEquals(expected.length, actual.length, what + ": lengths");
    double diff = 0;
    double scale = 0;
    for (int i = 0; i < expected.length; i++) {
      diff = Math.max(diff, Math.abs(expected[i] - actual[i]));
      scale = Math.max(scale, Math.abs(expected[i]));
    }
    System.out.println(what + ": max |actual − expected| / max |expected| = " + diff / scale);
    org.junit.jupiter.api.Assertions.assertTrue(diff <= tolerance * scale,
        what + ": max |actual − expected| = " + diff + " > " + tolerance + " × " + scale);
  }
}
