package org.efcp.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.zip.GZIPInputStream;

import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * One split of MNIST (or any data in its format) read from the standard IDX files: an images file (magic
 * 0x00000803: unsigned bytes, dimensions n × rows × cols) and a labels file (magic 0x00000801: unsigned bytes,
 * dimension n) with the same n. All integers in the headers are big-endian. A file whose name ends in
 * {@code .gz} is read through gunzip. Features are the pixels divided by 255 (so in [0, 1]), row-major;
 * labels are the digits 0–9.
 *
 * <p>The split keeps the raw bytes (47 MB for the 60k training images); {@link #toDataFrame} turns them into
 * doubles inside the Spark tasks.
 */
public final class MnistIdx {

  /** File names of the standard training split (as {@code bin/fetch-mnist} writes them). */
  public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
  public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
  /** File names of the standard test split. */
  public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
  public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
  /** Columns {@code label} (double, the digit) and {@code features} (dense ml.linalg Vector of rows·cols). */
  public static final StructType SCHEMA = new StructType()
      .add("label", DataTypes.DoubleType, false)
      .add("features", SQLDataTypes.VectorType(), false);

  /** Labels are the digits 0 … NUM_CLASSES − 1. */
  public static final int NUM_CLASSES = 10;

  private static final int IMAGES_MAGIC = 0x00000803;
  private static final int LABELS_MAGIC = 0x00000801;

  private final byte[] pixels;
  private final byte[] labels;
  private final int size;
  private final int rows;
  private final int cols;

  private MnistIdx(byte[] pixels, byte[] labels, int size, int rows, int cols) {
    this.pixels = pixels;
    this.labels = labels;
    this.size = size;
    this.rows = rows;
    this.cols = cols;
  }

  /** The standard training split (60,000 images) from {@code dir}. */
  public static MnistIdx train(Path dir) {
    return read(inDir(dir, TRAIN_IMAGES), inDir(dir, TRAIN_LABELS));
  }

  /** The standard test split (10,000 images) from {@code dir}. */
  public static MnistIdx test(Path dir) {
    return read(inDir(dir, TEST_IMAGES), inDir(dir, TEST_LABELS));
  }

  /**
   * Reads and checks one split.
   *
   * @throws IllegalArgumentException starting with "images" or "labels" when a file is missing, has the wrong
   *     magic number, is shorter or longer than its header says, when the counts differ, or a label is not 0–9
   */
  public static MnistIdx read(Path images, Path labels) {
    byte[] img = bytes("images", images);
    byte[] lab = bytes("labels", labels);
    checkMagic("images", images, img, IMAGES_MAGIC, 16);
    checkMagic("labels", labels, lab, LABELS_MAGIC, 8);
    int n = readInt(img, 4);
    int r = readInt(img, 8);
    int c = readInt(img, 12);
    if (n < 0 || r < 1 || c < 1) {
      throw new IllegalArgumentException("images: " + images + ": bad dimensions " + n + " × " + r + " × " + c);
    }
    long expected = 16 + (long) n * r * c;
    if (img.length != expected) {
      throw new IllegalArgumentException("images: " + images + " has " + img.length + " bytes but its header ("
          + n + " images of " + r + " × " + c + ") needs " + expected);
    }
    int m = readInt(lab, 4);
    if (m < 0 || lab.length != 8L + m) {
      throw new IllegalArgumentException("labels: " + labels + " has " + lab.length + " bytes but its header ("
          + m + " labels) needs " + (8L + m));
    }
    if (m != n) {
      throw new IllegalArgumentException("labels: " + labels + " holds " + m + " labels but " + images
          + " holds " + n + " images");
    }
    byte[] digits = Arrays.copyOfRange(lab, 8, lab.length);
    for (int i = 0; i < m; i++) {
      if ((digits[i] & 0xFF) >= NUM_CLASSES) {
        throw new IllegalArgumentException("labels: " + labels + ": label " + (digits[i] & 0xFF) + " of item " + i
            + " is not a digit 0–9");
      }
    }
    return new MnistIdx(Arrays.copyOfRange(img, 16, img.length), digits, n, r, c);
  }

  /** The first {@code n} images, 1 ≤ n ≤ {@link #size()}. */
  public MnistIdx first(int n) {
    if (n < 1 || n > size) {
      throw new IllegalArgumentException("n: expected 1.." + size + ", got " + n);
    }
    return new MnistIdx(Arrays.copyOf(pixels, n * numFeatures()), Arrays.copyOf(labels, n), n, rows, cols);
  }

  /** The last {@code n} images, 1 ≤ n ≤ {@link #size()} (a hold-out split). */
  public MnistIdx last(int n) {
    if (n < 1 || n > size) {
      throw new IllegalArgumentException("n: expected 1.." + size + ", got " + n);
    }
    int from = size - n;
    return new MnistIdx(Arrays.copyOfRange(pixels, from * numFeatures(), size * numFeatures()),
        Arrays.copyOfRange(labels, from, size), n, rows, cols);
  }

  /** Number of images. */
  public int size() {
    return size;
  }

  /** Pixels per image (rows · cols; 784 for MNIST). */
  public int numFeatures() {
    return rows * cols;
  }

  /** Image height in pixels. */
  public int imageRows() {
    return rows;
  }

  /** Image width in pixels. */
  public int imageCols() {
    return cols;
  }

  /** The digit of image {@code i}. */
  public int label(int i) {
    checkIndex(i);
    return labels[i];
  }

  /** Image {@code i} row-major, each pixel / 255. */
  public double[] features(int i) {
    checkIndex(i);
    return scaled(pixels, i * numFeatures(), numFeatures());
  }

  /**
   * The split as a DataFrame with {@link #SCHEMA}, row i = image i, in {@code numPartitions} contiguous ranges
   * of nearly equal size (so the order and partitioning do not depend on the machine). The bytes travel as one
   * broadcast, so tasks stay small however often the plan is re-run. Not cached.
   */
  public Dataset<Row> toDataFrame(SparkSession spark, int numPartitions) {
    if (numPartitions < 1) {
      throw new IllegalArgumentException("numPartitions: must be >= 1, got " + numPartitions);
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Broadcast<Bytes> bytes = jsc.broadcast(new Bytes(pixels, labels, numFeatures()));
    List<Integer> parts = new ArrayList<>(numPartitions);
    for (int p = 0; p < numPartitions; p++) {
      parts.add(p);
    }
    int n = size;
    JavaRDD<Row> rowRdd = jsc.parallelize(parts, numPartitions).flatMap(p -> {
      int from = (int) ((long) n * p / numPartitions);
      int to = (int) ((long) n * (p + 1) / numPartitions);
      return bytes.value().rows(from, to);
    });
    return spark.createDataFrame(rowRdd, SCHEMA);
  }

  /** The raw bytes of a split, as one broadcast value. */
  private record Bytes(byte[] pixels, byte[] labels, int numFeatures) implements Serializable {
    /** Rows {@code [from, to)}. */
    Iterator<Row> rows(int from, int to) {
      return new Iterator<>() {
        private int i = from;

        @Override
        public boolean hasNext() {
          return i < to;
        }

        @Override
        public Row next() {
          if (!hasNext()) {
            throw new NoSuchElementException();
          }
          Row row = RowFactory.create((double) labels[i],
              Vectors.dense(scaled(pixels, i * numFeatures, numFeatures)));
          i++;
          return row;
        }
      };
    }
  }

  private static double[] scaled(byte[] bytes, int from, int count) {
    double[] out = new double[count];
    for (int j = 0; j < count; j++) {
      out[j] = (bytes[from + j] & 0xFF) / 255.0;
    }
    return out;
  }

  private void checkIndex(int i) {
    if (i < 0 || i >= size) {
      throw new IndexOutOfBoundsException("image " + i + " of " + size);
    }
  }

  /** {@code dir/name}, or {@code dir/name.gz} when only that exists. */
  private static Path inDir(Path dir, String name) {
    Path plain = dir.resolve(name);
    Path gz = dir.resolve(name + ".gz");
    return !Files.exists(plain) && Files.exists(gz) ? gz : plain;
  }

  private static byte[] bytes(String what, Path file) {
    try (InputStream raw = Files.newInputStream(file)) {
      InputStream in = file.getFileName().toString().endsWith(".gz") ? new GZIPInputStream(raw) : raw;
      return in.readAllBytes();
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException(what + ": " + file + " does not exist (bin/fetch-mnist downloads MNIST)");
    } catch (IOException e) {
      throw new IllegalArgumentException(what + ": cannot read " + file + ": " + e, e);
    }
  }

  private static void checkMagic(String what, Path file, byte[] data, int magic, int headerBytes) {
    // The magic number first: it tells a swapped or foreign file apart from a truncated one.
    if (data.length >= 4 && readInt(data, 0) != magic) {
      throw new IllegalArgumentException(String.format("%s: %s has magic number 0x%08X, expected 0x%08X",
          what, file, readInt(data, 0), magic));
    }
    if (data.length < headerBytes) {
      throw new IllegalArgumentException(what + ": " + file + " has " + data.length + " bytes, fewer than the "
          + headerBytes + "-byte IDX header");
    }
  }

  private static int readInt(byte[] b, int off) {
    return (b[off] & 0xFF) << 24 | (b[off + 1] & 0xFF) << 16 | (b[off + 2] & 0xFF) << 8 | (b[off + 3] & 0xFF);
  }
}
