package org.efcp.examples;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.apache.spark.ml.functions;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.efcp.examples.SyntheticClipFeatures.Options;
import org.efcp.io.Npy;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProbeInputTest {

  private static final Options SMALL = new Options().withDim(6).withRank(2).withNumClasses(3);
  private static SparkSession spark;

  @TempDir
  Path tmp;

  @BeforeAll
  static void startSpark() {
    spark = SparkSession.builder()
        .master("local[2]")
        .appName("ProbeInputTest")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate();
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  private static ProbeInput input(String... args) {
    return ProbeInput.fromFlags(CommandLine.parse(args, LinearProbing.jobFlags()));
  }

  /** 40 synthetic rows: integer label, features as {@code type} ("vector", "float32" or "float64" arrays). */
  private Path parquet(String name, long seed, String type) {
    Dataset<Row> df = SyntheticClipFeatures.generate(spark, 40, 2, seed, SMALL);
    Dataset<Row> out = df.select(col("label").cast("int").as("label"), type.equals("vector") ? col("features")
        : functions.vector_to_array(col("features"), type).as("features"));
    Path p = tmp.resolve(name);
    out.write().parquet(p.toString());
    return p;
  }

  private static double[] sortedFirstFeatures(Dataset<Row> df) {
    return df.collectAsList().stream().mapToDouble(r -> ((Vector) r.getAs("features")).apply(0)).sorted().toArray();
  }

  @Test
  void floatAndDoubleArraysAndVectorsAllLoadAsVectorsWithDoubleLabels() throws IOException {
    Path vectors = parquet("v", 2, "vector");
    for (String type : List.of("float32", "float64")) {
      Path arrays = parquet(type, 1, type);
      ProbeInput.Splits s = input("--train", arrays.toString(), "--test", vectors.toString())
          .load(spark, "features", "label", 3, 6);
      for (Dataset<Row> d : List.of(s.train(), s.test())) {
        assertEquals(SQLDataTypes.VectorType(), d.schema().apply("features").dataType());
        assertEquals(DataTypes.DoubleType, d.schema().apply("label").dataType());
        assertEquals(3, d.rdd().getNumPartitions());
      }
      assertEquals(40, s.trainRows());
      assertEquals(40, s.testRows());
      assertEquals(6, s.numFeatures());
      double[] expected = sortedFirstFeatures(SyntheticClipFeatures.generate(spark, 40, 2, 1, SMALL));
      double tolerance = type.equals("float32") ? 1e-7 : 0.0;
      assertArrayEquals(expected, sortedFirstFeatures(s.train()), tolerance);
    }
  }

  @Test
  void npyPairsLoadWithTheirLabelsInFileOrder() throws IOException {
    double[][] x = {{1, 2}, {3, 4}, {5, 6}};
    double[][] y = {{2}, {0}, {1}};
    Path xf = tmp.resolve("x.npy");
    Path yf = tmp.resolve("y.npy");
    Npy.write(xf, x);
    Npy.write(yf, y);
    ProbeInput.Splits s = input("--train-features", xf.toString(), "--train-labels", yf.toString(),
        "--test-features", xf.toString(), "--test-labels", yf.toString()).load(spark, "f", "y", 2, 0);
    List<String> rows = new ArrayList<>();
    for (Row r : s.train().collectAsList()) {
      rows.add(r.getDouble(r.fieldIndex("y")) + ":" + r.getAs("f"));
    }
    rows.sort(null);
    assertEquals(List.of("0.0:[3.0,4.0]", "1.0:[5.0,6.0]", "2.0:[1.0,2.0]"), rows);
    assertEquals(2, s.numFeatures());
  }

  @Test
  void inputProblemsAreReportedUnderTheFlagAtFault() throws IOException {
    Path six = parquet("six", 1, "float32");
    Path other = tmp.resolve("other");
    SyntheticClipFeatures.generate(spark, 10, 1, 2, SMALL.withDim(5)).write().parquet(other.toString());
    Path textLabels = tmp.resolve("text-labels");
    SyntheticClipFeatures.generate(spark, 10, 1, 2, SMALL).select(col("label").cast("string").as("label"),
        col("features")).write().parquet(textLabels.toString());
    Map<String, Runnable> cases = Map.of(
        "--test: column 'features' has 5 features per row, the training rows have 6",
        () -> load(input("--train", six.toString(), "--test", other.toString()), 0),
        "--train: column 'features' has 6 features per row, --expected-dim is 768",
        () -> load(input("--train", six.toString(), "--test", six.toString()), 768),
        "--train: " + six + " has no column 'feats' (columns: label, features); name it with --features-col",
        () -> loadColumns(input("--train", six.toString(), "--test", six.toString()), "feats"),
        "--test: column 'label' in " + textLabels + " is string; expected integer or double class indices",
        () -> load(input("--train", six.toString(), "--test", textLabels.toString()), 0),
        "--test: no such file or directory: " + tmp.resolve("nope"),
        () -> load(input("--train", six.toString(), "--test", tmp.resolve("nope").toString()), 0),
        "--test: required with --train, --test",
        () -> input("--train", six.toString()),
        "--train-features: no such file: x.npy",
        () -> input("--train-features", "x.npy", "--train-labels", "y.npy", "--test-features", "x.npy",
            "--test-labels", "y.npy"));
    for (Map.Entry<String, Runnable> c : cases.entrySet()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, c.getValue()::run, c.getKey());
      assertTrue(e.getMessage().startsWith(c.getKey()), e.getMessage());
    }
  }

  private static void load(ProbeInput in, int expectedDim) {
    try {
      in.load(spark, "features", "label", 2, expectedDim);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  private static void loadColumns(ProbeInput in, String featuresCol) {
    try {
      in.load(spark, featuresCol, "label", 2, 0);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
