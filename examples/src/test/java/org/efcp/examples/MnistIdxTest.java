package org.efcp.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class MnistIdxTest {

  /** Three 2×3 images; pixel j of image i is PIXELS[i][j] (unsigned). */
  private static final int[][] PIXELS = {{0, 255, 128, 1, 2, 3}, {10, 20, 30, 40, 50, 60}, {255, 0, 0, 0, 0, 7}};
  private static final int[] LABELS = {7, 0, 9};

  private static SparkSession spark;
  private static Path dir;

  @BeforeAll
  static void setUp() throws IOException {
    Files.createDirectories(Path.of("target"));
    dir = Files.createTempDirectory(Path.of("target"), "mnist-idx-test");
    spark = TestData.session("local[2]", "MnistIdxTest");
  }

  @AfterAll
  static void stopSparkAndDeleteFiles() throws IOException {
    spark.stop();
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** An IDX file: magic, then the dimensions, then the bytes. */
  private static byte[] idx(int magic, int[] dims, int[] data) {
    ByteBuffer b = ByteBuffer.allocate(4 + 4 * dims.length + data.length);
    b.putInt(magic);
    for (int d : dims) {
      b.putInt(d);
    }
    for (int v : data) {
      b.put((byte) v);
    }
    return b.array();
  }

  private static byte[] images() {
    int[] flat = new int[18];
    for (int i = 0; i < 3; i++) {
      System.arraycopy(PIXELS[i], 0, flat, 6 * i, 6);
    }
    return idx(0x803, new int[] {3, 2, 3}, flat);
  }

  private static byte[] labels() {
    return idx(0x801, new int[] {3}, LABELS);
  }

  private static Path write(String name, byte[] content) throws IOException {
    Path p = dir.resolve(name);
    Files.write(p, content);
    return p;
  }

  private static double[] expectedFeatures(int i) {
    double[] out = new double[6];
    for (int j = 0; j < 6; j++) {
      out[j] = PIXELS[i][j] / 255.0;
    }
    return out;
  }

  @Test
  void readsPixelsOver255AndLabelsInFileOrder() throws IOException {
    MnistIdx m = MnistIdx.read(write("ok-images", images()), write("ok-labels", labels()));
    assertEquals(3, m.size());
    assertEquals(6, m.numFeatures());
    assertEquals(2, m.imageRows());
    assertEquals(3, m.imageCols());
    for (int i = 0; i < 3; i++) {
      assertEquals(LABELS[i], m.label(i));
      assertArrayEquals(expectedFeatures(i), m.features(i), 0.0);
    }
    assertEquals(1.0, m.features(0)[1], 0.0);
    assertThrows(IndexOutOfBoundsException.class, () -> m.features(3));
  }

  @Test
  void firstAndLastKeepTheImagesAtTheirEnds() throws IOException {
    MnistIdx m = MnistIdx.read(write("fl-images", images()), write("fl-labels", labels()));
    MnistIdx last = m.last(2);
    assertEquals(2, last.size());
    assertEquals(6, last.numFeatures());
    for (int i = 0; i < 2; i++) {
      assertEquals(LABELS[1 + i], last.label(i));
      assertArrayEquals(expectedFeatures(1 + i), last.features(i), 0.0);
    }
    assertArrayEquals(expectedFeatures(0), m.first(1).features(0), 0.0);
    assertMessageStarts("n", () -> m.last(0));
    assertMessageStarts("n", () -> m.last(4));
  }

  @Test
  void standardNamesAreFoundInADirectoryAlsoWhenGzipped() throws IOException {
    Path std = Files.createDirectories(dir.resolve("std"));
    Files.write(std.resolve(MnistIdx.TRAIN_IMAGES), images());
    Files.write(std.resolve(MnistIdx.TRAIN_LABELS + ".gz"), gzip(labels()));
    MnistIdx m = MnistIdx.train(std);
    assertEquals(3, m.size());
    assertEquals(9, m.label(2));
    assertMessageStarts("images", () -> MnistIdx.test(std));
  }

  @Test
  void dataFrameHoldsEveryImageInOrderInTheRequestedPartitions() throws IOException {
    MnistIdx m = MnistIdx.read(write("df-images", images()), write("df-labels", labels()));
    Dataset<Row> df = m.toDataFrame(spark, 2);
    assertEquals(MnistIdx.SCHEMA, df.schema());
    assertEquals(2, df.rdd().getNumPartitions());
    List<Row> rows = df.collectAsList();
    assertEquals(3, rows.size());
    for (int i = 0; i < 3; i++) {
      assertEquals(LABELS[i], rows.get(i).getDouble(0), 0.0);
      assertArrayEquals(expectedFeatures(i), ((Vector) rows.get(i).get(1)).toArray(), 0.0);
    }
    // More partitions than images: the extra ones are empty, nothing is lost or repeated.
    assertEquals(3, m.toDataFrame(spark, 5).count());
    assertMessageStarts("numPartitions", () -> m.toDataFrame(spark, 0));
  }

  @Test
  void wrongMagicNumbersAreRefusedNamingTheFile() throws IOException {
    Path img = write("m-images", images());
    Path lab = write("m-labels", labels());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MnistIdx.read(lab, img));
    assertTrue(e.getMessage().startsWith("images: "), e.getMessage());
    assertTrue(e.getMessage().contains("magic number 0x00000801, expected 0x00000803"), e.getMessage());
    assertMessageStarts("labels", () -> MnistIdx.read(img, write("m-bad", idx(0x802, new int[] {3}, LABELS))));
  }

  @Test
  void truncatedOrOverlongFilesAreRefused() throws IOException {
    byte[] full = images();
    Path lab = write("t-labels", labels());
    Path cut = write("t-images-cut", Arrays.copyOf(full, full.length - 1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MnistIdx.read(cut, lab));
    assertTrue(e.getMessage().startsWith("images: ") && e.getMessage().contains("needs 34"), e.getMessage());
    assertMessageStarts("images", () -> MnistIdx.read(write("t-long", Arrays.copyOf(full, 35)), lab));
    assertMessageStarts("images", () -> MnistIdx.read(write("t-header", new byte[] {0, 0, 8, 3, 0}), lab));
    byte[] labs = labels();
    Path img = write("t-images", full);
    assertMessageStarts("labels",
        () -> MnistIdx.read(img, write("t-labels-cut", Arrays.copyOf(labs, labs.length - 1))));
  }

  @Test
  void countsMustAgreeAndLabelsMustBeDigits() throws IOException {
    Path img = write("c-images", images());
    assertMessageStarts("labels",
        () -> MnistIdx.read(img, write("c-two", idx(0x801, new int[] {2}, new int[] {1, 2}))));
    assertMessageStarts("labels",
        () -> MnistIdx.read(img, write("c-ten", idx(0x801, new int[] {3}, new int[] {1, 10, 2}))));
  }

  @Test
  void aMissingFileSaysHowToGetMnist() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> MnistIdx.read(dir.resolve("nope-images"), dir.resolve("nope-labels")));
    assertTrue(e.getMessage().startsWith("images: ") && e.getMessage().contains("bin/fetch-mnist"), e.getMessage());
  }

  private static byte[] gzip(byte[] data) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (OutputStream out = new GZIPOutputStream(bytes)) {
      out.write(data);
    }
    return bytes.toByteArray();
  }

  private static void assertMessageStarts(String prefix, Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().startsWith(prefix + ":"), e.getMessage());
  }
}
