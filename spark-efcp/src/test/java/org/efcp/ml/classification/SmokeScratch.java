package org.efcp.ml.classification;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.ml.classification.LogisticRegression;
import org.apache.spark.ml.classification.LogisticRegressionModel;
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

public class SmokeScratch {
  public static void main(String[] a) {
    SparkSession spark = SparkSession.builder().master("local[2]").config("spark.driver.host", "127.0.0.1")
        .config("spark.ui.enabled", "false").getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    int f = 20, c = 5;
    Random rnd = new Random(1);
    double[][] means = new double[c][f];
    for (double[] m : means) for (int j = 0; j < f; j++) m[j] = rnd.nextGaussian();
    StructType schema = new StructType().add("label", DataTypes.DoubleType).add("features", new VectorUDT());
    Dataset<Row> train = gen(spark, schema, means, 20000, 2), test = gen(spark, schema, means, 5000, 3);
    train.cache().count(); test.cache().count();
    MulticlassClassificationEvaluator ev = new MulticlassClassificationEvaluator().setMetricName("accuracy");
    long t = System.nanoTime();
    LogisticRegressionModel ml = new LogisticRegression().fit(train);
    if (System.getenv("NOML") == null) System.out.printf("mllib acc %.4f %.1fs%n", ev.evaluate(ml.transform(test)), (System.nanoTime() - t) * 1e-9);
    for (String opt : a.length > 0 ? a : new String[] {"sparse-mfac", "sgd", "dense-mfac", "adagrad-ef", "dense-ggt"}) {
      t = System.nanoTime();
      String[] q = opt.split(":");
      EFCPLogisticRegression est = new EFCPLogisticRegression().setOptimizer(q[0]);
      if (q.length > 1) est.setStepSize(Double.parseDouble(q[1])).setDamping(Double.parseDouble(q[2]))
          .setDensity(Double.parseDouble(q[3])).setGradientWindow(Integer.parseInt(q[4]));
      EFCPLogisticRegressionModel m = est.fit(train);
      System.out.printf("%s acc %.4f %.1fs steps %d obj %s%n", opt, ev.evaluate(m.transform(test)),
          (System.nanoTime() - t) * 1e-9, m.summary().totalIterations(),
          java.util.Arrays.toString(m.summary().objectiveHistory()));
    }
    spark.stop();
  }

  static Dataset<Row> gen(SparkSession spark, StructType schema, double[][] means, int n, long seed) {
    Random rnd = new Random(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int y = rnd.nextInt(means.length);
      double[] x = new double[means[0].length];
      for (int j = 0; j < x.length; j++) x[j] = means[y][j] + 1.5 * rnd.nextGaussian();
      rows.add(RowFactory.create((double) y, Vectors.dense(x)));
    }
    return spark.createDataFrame(rows, schema).repartition(2);
  }
}
