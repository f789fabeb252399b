package org.efcp.examples;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
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
import org.efcp.ml.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProbeInputTest {

  private static final Options SMALL = new Options().withDim(6).withRank(2).withNumClasses(3);
  private static final int ROWS = 40;
  private static SparkSession spark;

  @TempDir
  static Path tmp;
  /**
   * 40 rows of 6 features as float32 arrays ({@code f32}), float64 arrays ({@code f64}) and vectors ({@code vec});
   * labels as integers ({@code label}) and strings ({@code text_label}).
   */
  private static Path wide;
  /** 10 rows of 5 features ({@code f32}) with integer labels. */
  private static Path narrow;

  @BeforeAll
  static void writeFixtures() {
    spark = TestData.session("local[2]", "ProbeInputTest");
    wide = tmp.resolve("wide");
    SyntheticClipFeatures.generate(spark, ROWS, 2, SyntheticClipFeatures.TRAIN_SEED, SMALL)
        .select(col("label").cast("int").as("label"), col("label").cast("string").as("text_label"),
            functions.vector_to_array(col("features"), "float32").as("f32"),
            functions.vector_to_array(col("features"), "float64").as("f64"),
            col("features").as("vec"))
        .write().parquet(wide.toString());
    narrow = tmp.resolve("narrow");
    SyntheticClipFeatures.generate(spark, 10, 1, SyntheticClipFeatures.TEST_SEED, SMALL.withDim(5))
        .select(col("label").cast("int").as("label"), functions.vector_to_array(col("features"), "float32").as("f32"))
        .write().parquet(narrow.toString());
  }

  @AfterAll
  static void stopSpark() {
    spark.stop();
  }

  private static ProbeInput input(String... args) {
    return ProbeInput.fromFlags(CommandLine.parse(args, LinearProbing.jobFlags()));
  }

  private static ProbeInput.Splits load(ProbeInput in, String featuresCol, String labelCol, int expectedDim) {
    try {
      return in.load(spark, featuresCol, labelCol, 3, expectedDim);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static double[] sortedFirstFeatures(Dataset<Row> df, String featuresCol) {
    return df.collectAsList().stream().mapToDouble(r -> ((Vector) r.getAs(featuresCol)).apply(0)).sorted().toArray();
  }

  @Test
  void floatAndDoubleArraysAndVectorsAllLoadAsVectorsWithDoubleLabels() {
    double[] expected = sortedFirstFeatures(
        SyntheticClipFeatures.generate(spark, ROWS, 2, SyntheticClipFeatures.TRAIN_SEED, SMALL), "features");
    for (String column : List.of("f32", "f64", "vec")) {
      ProbeInput.Splits s = load(input("--train", wide.toString(), "--test", wide.toString()), column, "label", 6);
      for (Dataset<Row> d : List.of(s.train(), s.test())) {
        assertEquals(SQLDataTypes.VectorType(), d.schema().apply(column).dataType(), column);
        assertEquals(DataTypes.DoubleType, d.schema().apply("label").dataType(), column);
        assertEquals(3, d.rdd().getNumPartitions(), column);
      }
      assertEquals(ROWS, s.trainRows());
      assertEquals(ROWS, s.testRows());
      assertEquals(6, s.numFeatures());
      // float32 keeps 24 bits: |x| ≤ 1 rounds by at most 2^-25.
      assertArrayEquals(expected, sortedFirstFeatures(s.train(), column), column.equals("f32") ? 3e-8 : 0.0, column);
    }
  }

  @Test
  void npyPairsLoadWithTheirLabelsInFileOrder(@TempDir Path files) throws IOException {
    double[][] x = {{1, 2}, {3, 4}, {5, 6}};
    double[][] y = {{2}, {0}, {1}};
    Path xf = files.resolve("x.npy");
    Path yf = files.resolve("y.npy");
    Npy.write(xf, x);
    Npy.write(yf, y);
    ProbeInput.Splits s = load(input("--train-features", xf.toString(), "--train-labels", yf.toString(),
        "--test-features", xf.toString(), "--test-labels", yf.toString()), "f", "y", 0);
    List<String> rows = new ArrayList<>();
    for (Row r : s.train().collectAsList()) {
      rows.add(r.getDouble(r.fieldIndex("y")) + ":" + r.getAs("f"));
    }
    rows.sort(null);
    assertEquals(List.of("0.0:[3.0,4.0]", "1.0:[5.0,6.0]", "2.0:[1.0,2.0]"), rows);
    assertEquals(3, s.trainRows());
    assertEquals(2, s.numFeatures());
  }

  @Test
  void inputProblemsAreReportedUnderTheFlagAtFault() {
    String w = wide.toString();
    Map<String, Runnable> cases = Map.of(
        "--test: column 'f32' has 5 features per row, the training rows have 6",
        () -> load(input("--train", w, "--test", narrow.toString()), "f32", "label", 0),
        "--train: column 'f64' has 6 features per row, --expected-dim is 768",
        () -> load(input("--train", w, "--test", w), "f64", "label", 768),
        "--train: " + w + " has no column 'feats' (columns: label, text_label, f32, f64, vec); name it with"
            + " --features-col",
        () -> load(input("--train", w, "--test", w), "feats", "label", 0),
        "--train: column 'text_label' in " + w + " is string; expected integer or double class indices",
        () -> load(input("--train", w, "--test", w), "vec", "text_label", 0),
        "--train: column 'label' in " + w + " is int; expected array<float>, array<double> or an ML vector",
        () -> load(input("--train", w, "--test", w), "label", "label", 0),
        "--test: no such file or directory: " + tmp.resolve("nope"),
        () -> load(input("--train", w, "--test", tmp.resolve("nope").toString()), "f32", "label", 0),
        "--train-features: no such file: x.npy",
        () -> input("--train-features", "x.npy", "--train-labels", "y.npy", "--test-features", "x.npy",
            "--test-labels", "y.npy"),
        "--train: give either --train/--test (Parquet) or the four .npy flags",
        () -> input("--train", w, "--test", w, "--train-features", "x.npy"));
    for (Map.Entry<String, Runnable> c : cases.entrySet()) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, c.getValue()::run, c.getKey());
      assertTrue(e.getMessage().startsWith(c.getKey()), e.getMessage());
    }
  }

  @Test
  void aMissingCompanionFlagIsNamedWithTheFlagsThatWereGiven() {
    assertEquals("--test: required with --train",
        assertThrows(IllegalArgumentException.class, () -> input("--train", "x.parquet")).getMessage());
    assertEquals("--train-labels: required with --train-features, --test-labels",
        assertThrows(IllegalArgumentException.class,
            () -> input("--train-features", "x.npy", "--test-labels", "y.npy")).getMessage());
  }
}
