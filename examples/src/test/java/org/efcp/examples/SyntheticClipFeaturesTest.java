package org.efcp.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;

import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.examples.SyntheticClipFeatures.Options;
import org.efcp.ml.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.ludovic.netlib.lapack.LAPACK;
import org.netlib.util.intW;

class SyntheticClipFeaturesTest {

  private static final int DIM = 32;
  private static final int CLASSES = 10;
  private static final Options SMALL = new Options().withDim(DIM).withRank(8).withNumClasses(CLASSES);

  private static SparkSession spark;

  @BeforeAll
  static void startSpark() {
    spark = TestData.session("local[2]", "SyntheticClipFeaturesTest");
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  private static List<Row> rows(long n, int partitions, long seed, Options opts) {
    return SyntheticClipFeatures.generate(spark, n, partitions, seed, opts).collectAsList();
  }

  private static double[] features(Row r) {
    return ((Vector) r.getAs("features")).toArray();
  }

  @Test
  void rowsAreDenseUnitVectorsOfTheRequestedDimension() {
    Dataset<Row> df = SyntheticClipFeatures.generate(spark, 2000, 2, SyntheticClipFeatures.TRAIN_SEED, SMALL);
    assertEquals(SyntheticClipFeatures.SCHEMA, df.schema());
    List<Row> rows = df.collectAsList();
    assertEquals(2000, rows.size());
    for (Row r : rows) {
      assertInstanceOf(DenseVector.class, r.getAs("features"));
      double[] x = features(r);
      assertEquals(DIM, x.length);
      double sq = 0;
      for (double v : x) {
        sq += v * v;
      }
      assertEquals(1.0, Math.sqrt(sq), 1e-12);
    }
  }

  @Test
  void labelsAreClassIndicesSpreadRoughlyUniformly() {
    int[] counts = new int[CLASSES];
    for (Row r : rows(2000, 2, SyntheticClipFeatures.TRAIN_SEED, SMALL)) {
      double label = r.getDouble(0);
      assertTrue(label >= 0 && label < CLASSES && label == Math.rint(label), "label " + label);
      counts[(int) label]++;
    }
    // Expected 200 per class, standard deviation ≈ 13.4: ±70 is over 5σ.
    for (int c = 0; c < CLASSES; c++) {
      assertTrue(Math.abs(counts[c] - 200) <= 70, "class counts " + Arrays.toString(counts));
    }
  }

  @Test
  void rowsAreBitwiseTheSameForOneAndThreePartitions() {
    List<Row> one = rows(2000, 1, SyntheticClipFeatures.TRAIN_SEED, SMALL);
    List<Row> three = rows(2000, 3, SyntheticClipFeatures.TRAIN_SEED, SMALL);
    assertEquals(one.size(), three.size());
    for (int i = 0; i < one.size(); i++) {
      assertEquals(one.get(i).getDouble(0), three.get(i).getDouble(0), 0.0);
      assertArrayEquals(features(one.get(i)), features(three.get(i)), "row " + i);
    }
  }

  @Test
  void trainAndTestSeedsGiveDifferentRows() {
    List<Row> train = rows(500, 2, SyntheticClipFeatures.TRAIN_SEED, SMALL);
    List<Row> test = rows(500, 2, SyntheticClipFeatures.TEST_SEED, SMALL);
    int sameLabel = 0;
    for (int i = 0; i < train.size(); i++) {
      assertTrue(!Arrays.equals(features(train.get(i)), features(test.get(i))), "row " + i + " is the same");
      if (train.get(i).getDouble(0) == test.get(i).getDouble(0)) {
        sameLabel++;
      }
    }
    // Independent labels agree on ≈ 1/10 of the rows (50 ± 7); equal streams would agree on all 500.
    assertTrue(sameLabel < 100, "labels agree on " + sameLabel + " of 500 rows");
  }

  @Test
  void onePassNearestCentroidBeatsChanceByAWideMarginAtNoise09() {
    Options opts = SMALL.withNoise(0.9);
    double[][] centroids = new double[CLASSES][DIM];
    for (Row r : rows(2000, 2, SyntheticClipFeatures.TRAIN_SEED, opts)) {
      double[] x = features(r);
      double[] c = centroids[(int) r.getDouble(0)];
      for (int j = 0; j < DIM; j++) {
        c[j] += x[j];
      }
    }
    List<Row> test = rows(1000, 2, SyntheticClipFeatures.TEST_SEED, opts);
    int correct = 0;
    for (Row r : test) {
      double[] x = features(r);
      int best = 0;
      double bestCos = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < CLASSES; c++) {
        double dot = 0;
        double norm = 0;
        for (int j = 0; j < DIM; j++) {
          dot += centroids[c][j] * x[j];
          norm += centroids[c][j] * centroids[c][j];
        }
        double cos = dot / Math.sqrt(norm);
        if (cos > bestCos) {
          bestCos = cos;
          best = c;
        }
      }
      if (best == (int) r.getDouble(0)) {
        correct++;
      }
    }
    double accuracy = correct / (double) test.size();
    assertTrue(accuracy > 0.6, "nearest-centroid test accuracy " + accuracy + " vs chance 0.1");
  }

  @Test
  void classMeansHaveUnitVarianceInARankRSubspaceAndOneHundredthOutsideIt() {
    int dim = 16;
    int rank = 4;
    int classes = 400;
    double[] means = SyntheticClipFeatures.classMeans(
        new Options().withDim(dim).withRank(rank).withNumClasses(classes));
    // MᵀM (M: classes × dim) has `rank` eigenvalues ≈ classes (QQᵀg) and dim − rank ≈ 0.01·classes (0.1·h).
    // Marchenko–Pastur edges: signal ≥ (√400 − √4)² ≈ 324, the rest within 0.01·(√400 ± √12)² ≈ 2.7..5.5.
    double[] gram = new double[dim * dim];
    for (int c = 0; c < classes; c++) {
      for (int a = 0; a < dim; a++) {
        for (int b = 0; b < dim; b++) {
          gram[a * dim + b] += means[c * dim + a] * means[c * dim + b];
        }
      }
    }
    double[] eig = new double[dim];
    double[] work = new double[3 * dim];
    intW info = new intW(0);
    LAPACK.getInstance().dsyev("N", "U", dim, gram, dim, eig, work, work.length, info);
    assertEquals(0, info.val);
    // dsyev returns the eigenvalues in ascending order.
    String all = Arrays.toString(eig);
    assertTrue(eig[dim - rank] > 0.5 * classes, "smallest signal eigenvalue too small: " + all);
    assertTrue(eig[dim - 1] < 1.5 * classes, "largest signal eigenvalue too large: " + all);
    assertTrue(eig[dim - rank - 1] < 0.05 * classes, "off-subspace eigenvalue too large: " + all);
    assertTrue(eig[0] > 0.002 * classes, "off-subspace part missing: " + all);
  }

  @Test
  void badArgumentsAreRejectedNamingTheParameter() {
    assertMessageStarts("numRows", () -> SyntheticClipFeatures.generate(spark, -1, 2, 1, SMALL));
    assertMessageStarts("numPartitions", () -> SyntheticClipFeatures.generate(spark, 10, 0, 1, SMALL));
    assertMessageStarts("rank", () -> SyntheticClipFeatures.generate(spark, 10, 2, 1, SMALL.withRank(DIM + 1)));
    assertMessageStarts("dim", () -> SMALL.withDim(0));
    assertMessageStarts("rank", () -> SMALL.withRank(0));
    assertMessageStarts("numClasses", () -> SMALL.withNumClasses(0));
    assertMessageStarts("noise", () -> SMALL.withNoise(-0.1));
    assertMessageStarts("noise", () -> SMALL.withNoise(Double.NaN));
  }

  private static void assertMessageStarts(String prefix, Runnable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call::run);
    assertTrue(e.getMessage().startsWith(prefix + ":"), e.getMessage());
  }
}
