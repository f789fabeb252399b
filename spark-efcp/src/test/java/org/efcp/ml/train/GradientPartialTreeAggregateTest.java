package org.efcp.ml.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * On a real local[2] SparkSession with the project's Kryo serializer, {@code treeAggregate} of one leaf per
 * partition gives the driver-side canonical tree sum bit for bit, whatever grouping the depth makes Spark use.
 */
class GradientPartialTreeAggregateTest {

  private static final int PARTITIONS = 7;
  private static final int D = 5;

  /** First gradient entries: big terms cancel, small ones are absorbed or not depending on the grouping. */
  private static final double[] FIRST = {1, 1e16, -1e16, 3.3, 1e-8, -2.5e15, 0.1};

  private static SparkSession spark;

  @BeforeAll
  static void startSpark() {
    spark = SparkSession.builder()
        .master("local[2]")
        .appName("GradientPartialTreeAggregateTest")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.serializer", "org.apache.spark.serializer.KryoSerializer")
        .getOrCreate();
  }

  @AfterAll
  static void stopSpark() {
    if (spark != null) {
      spark.stop();
    }
  }

  /** Partition p's gradient: wide magnitudes and signs, so the sum depends on its association. */
  private static double[] partitionGradient(int p) {
    Random rnd = new Random(31L * p + 1);
    double[] g = new double[D];
    for (int j = 0; j < D; j++) {
      double v = Math.pow(10, -8 + 24 * rnd.nextDouble());
      g[j] = rnd.nextBoolean() ? v : -v;
    }
    g[0] = FIRST[p];
    return g;
  }

  private static double partitionLoss(int p) {
    return Math.pow(10, p * 3 - 6) * (p % 3 == 0 ? -1 : 1);
  }

  private static GradientPartial partitionLeaf(int p, Iterator<Integer> rows) {
    long n = 0;
    while (rows.hasNext()) {
      rows.next();
      n++;
    }
    return GradientPartial.leaf(p, PARTITIONS, partitionGradient(p), partitionLoss(p), 0.5 * n + p, n);
  }

  /** The canonical tree sum, recursively from the definition. */
  private static double[] treeSum(int lo, int hi) {
    if (hi - lo == 1) {
      double[] g = partitionGradient(lo);
      double[] v = new double[D + 1];
      System.arraycopy(g, 0, v, 0, D);
      v[D] = partitionLoss(lo);
      return v;
    }
    int mid = (lo + hi) >>> 1;
    double[] a = treeSum(lo, mid);
    double[] b = treeSum(mid, hi);
    for (int i = 0; i < a.length; i++) {
      a[i] += b[i];
    }
    return a;
  }

  @ParameterizedTest
  @ValueSource(ints = {2, 3})
  void treeAggregateOfPartitionLeavesEqualsTheCanonicalSumBitForBit(int depth) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    List<Integer> rows = IntStream.range(0, 100).boxed().toList();
    JavaRDD<GradientPartial> leaves = jsc.parallelize(rows, PARTITIONS)
        .mapPartitionsWithIndex((p, it) -> Collections.singletonList(partitionLeaf(p, it)).iterator(), false);

    GradientPartial sum = leaves.treeAggregate(GradientPartial.empty(), GradientPartial::merge,
        GradientPartial::merge, depth);

    double[] expected = treeSum(0, PARTITIONS);
    assertTrue(sum.isComplete());
    for (int j = 0; j < D; j++) {
      assertEquals(Double.doubleToLongBits(expected[j]), Double.doubleToLongBits(sum.gradient()[j]),
          "gradient[" + j + "]");
    }
    assertEquals(Double.doubleToLongBits(expected[D]), Double.doubleToLongBits(sum.loss()), "loss");
    assertEquals(100L, sum.rows());
    assertEquals(0.5 * 100 + 21, sum.weight()); // exact: small integers and halves

    // The check is sensitive: Spark's own order-dependent sum of the same gradients (in partition order)
    // differs from the canonical one in the first entry.
    double leftToRight = 0;
    for (int p = 0; p < PARTITIONS; p++) {
      leftToRight += partitionGradient(p)[0];
    }
    assertNotEquals(Double.doubleToLongBits(expected[0]), Double.doubleToLongBits(leftToRight));
  }
}
