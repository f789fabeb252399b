package org.efcp.ml.classification;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Test data: rows (features, label, w) of classes drawn around seeded random means, and frames of such rows with
 * a fixed partitioning (rows split in order across partitions, so a test knows which partition holds a row).
 */
final class GaussianClasses {
  static final StructType SCHEMA = new StructType()
      .add("features", new VectorUDT())
      .add("label", DataTypes.DoubleType)
      .add("w", DataTypes.DoubleType);

  private GaussianClasses() {}

  /**
   * {@code n} rows of {@code classes} classes, unit-variance noise around means drawn with standard deviation
   * {@code separation}; weight 1.
   */
  static List<Row> rows(int n, int features, int classes, double separation, long seed) {
    Random rnd = new Random(seed);
    double[][] means = new double[classes][features];
    for (double[] m : means) {
      for (int j = 0; j < features; j++) {
        m[j] = separation * rnd.nextGaussian();
      }
    }
    List<Row> rows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      int y = rnd.nextInt(classes);
      double[] x = new double[features];
      for (int j = 0; j < features; j++) {
        x[j] = means[y][j] + rnd.nextGaussian();
      }
      rows.add(row(x, y, 1.0));
    }
    return rows;
  }

  static Row row(double[] features, double label, double weight) {
    return RowFactory.create(Vectors.dense(features), label, weight);
  }

  /** The rows as a frame of {@link #SCHEMA} in {@code partitions} consecutive slices. */
  static Dataset<Row> frame(SparkSession spark, List<Row> rows, int partitions) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    return spark.createDataFrame(jsc.parallelize(rows, partitions), SCHEMA);
  }
}
