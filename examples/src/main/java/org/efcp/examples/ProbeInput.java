package org.efcp.examples;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.when;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import org.apache.spark.ml.functions;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.AnalysisException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.efcp.io.Npy;
import org.efcp.io.NpyRowReader;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Where a linear-probing job's train and test rows come from: Parquet ({@code --train}, {@code --test}),
 * {@code .npy} feature/label pairs ({@code --train-features}, {@code --train-labels}, {@code --test-features},
 * {@code --test-labels}) or, when none is given, {@link SyntheticClipFeatures}. {@link #load} returns both splits
 * with a double label column and an ML vector features column under the estimator's column names.
 */
final class ProbeInput {

  /** Synthetic training rows per default-parallelism slot when {@code --synthetic-train} is not given. */
  static final long SYNTHETIC_ROWS_PER_CORE = 20_000;
  /** Cap of the scaled synthetic training size. */
  static final long SYNTHETIC_MAX_ROWS = 100_000;

  enum Source { PARQUET, NPY, SYNTHETIC }

  private final Source source;
  private final String train;
  private final String test;
  private final String trainLabels;
  private final String testLabels;
  private final long syntheticTrain;
  private final long syntheticTest;
  private final SyntheticClipFeatures.Options synthetic;

  private ProbeInput(Source source, String train, String test, String trainLabels, String testLabels,
      long syntheticTrain, long syntheticTest, SyntheticClipFeatures.Options synthetic) {
    this.source = source;
    this.train = train;
    this.test = test;
    this.trainLabels = trainLabels;
    this.testLabels = testLabels;
    this.syntheticTrain = syntheticTrain;
    this.syntheticTest = syntheticTest;
    this.synthetic = synthetic;
  }

  /** The splits as loaded: features column of ML vectors, label column of doubles. */
  record Splits(Dataset<Row> train, Dataset<Row> test, long trainRows, long testRows, int numFeatures) {
  }

  /**
   * The input the flags name. Parquet and {@code .npy} flags come in complete sets; none at all means synthetic
   * data ({@code --synthetic-*} flags, whose empty rows count is scaled to the cluster at {@link #load}).
   *
   * @throws IllegalArgumentException naming the flag that is missing or conflicts
   */
  static ProbeInput fromFlags(CommandLine cl) {
    String[] parquet = {"--train", "--test"};
    String[] npy = {"--train-features", "--train-labels", "--test-features", "--test-labels"};
    boolean anyParquet = !given(cl, parquet).isEmpty();
    boolean anyNpy = !given(cl, npy).isEmpty();
    if (anyParquet && anyNpy) {
      throw new IllegalArgumentException("--train: give either --train/--test (Parquet) or the four .npy flags"
          + " --train-features/--train-labels/--test-features/--test-labels, not both");
    }
    if (anyParquet) {
      requireAll(cl, parquet);
      return new ProbeInput(Source.PARQUET, cl.string("--train"), cl.string("--test"), null, null, 0, 0, null);
    }
    if (anyNpy) {
      requireAll(cl, npy);
      // .npy files are read on the driver: check them before Spark starts.
      for (String f : npy) {
        if (!Files.isRegularFile(Path.of(cl.string(f)))) {
          throw new IllegalArgumentException(f + ": no such file: " + cl.string(f));
        }
      }
      return new ProbeInput(Source.NPY, cl.string("--train-features"), cl.string("--test-features"),
          cl.string("--train-labels"), cl.string("--test-labels"), 0, 0, null);
    }
    SyntheticClipFeatures.Options opts = new SyntheticClipFeatures.Options()
        .withDim(cl.positiveInt("--synthetic-dim"))
        .withNumClasses(cl.positiveInt("--synthetic-classes"))
        .withNoise(cl.nonNegativeDouble("--synthetic-noise"));
    opts = opts.withRank(Math.min(opts.rank(), opts.dim()));
    opts.check();
    long trainRows = cl.string("--synthetic-train").isEmpty() ? 0 : cl.positiveLong("--synthetic-train");
    long testRows = cl.string("--synthetic-test").isEmpty() ? 0 : cl.positiveLong("--synthetic-test");
    return new ProbeInput(Source.SYNTHETIC, null, null, null, null, trainRows, testRows, opts);
  }

  Source source() {
    return source;
  }

  /**
   * Reads (or generates) both splits into {@code partitions} partitions each, with columns renamed or converted
   * to {@code labelCol} (double) and {@code featuresCol} (ML vector), and checks their feature width.
   *
   * @param expectedDim the required feature width, or 0 for any
   * @throws IllegalArgumentException starting with the flag whose input is at fault: missing or unreadable path,
   *     missing or mistyped column, feature width other than {@code expectedDim} or than the training split's
   */
  Splits load(SparkSession spark, String featuresCol, String labelCol, int partitions, int expectedDim)
      throws IOException {
    String trainFlag = source == Source.NPY ? "--train-features" : "--train";
    String testFlag = source == Source.NPY ? "--test-features" : "--test";
    Split trainSplit = switch (source) {
      case PARQUET -> parquet(spark, trainFlag, train, featuresCol, labelCol, partitions);
      case NPY -> npy(spark, trainFlag, train, "--train-labels", trainLabels, featuresCol, labelCol, partitions);
      case SYNTHETIC -> synthetic(spark, syntheticTrainRows(spark), SyntheticClipFeatures.TRAIN_SEED, featuresCol,
          labelCol, partitions);
    };
    if (expectedDim > 0 && trainSplit.width() != expectedDim) {
      throw new IllegalArgumentException(trainFlag + ": column '" + featuresCol + "' has " + trainSplit.width()
          + " features per row, --expected-dim is " + expectedDim);
    }
    Split testSplit = switch (source) {
      case PARQUET -> parquet(spark, testFlag, test, featuresCol, labelCol, partitions);
      case NPY -> npy(spark, testFlag, test, "--test-labels", testLabels, featuresCol, labelCol, partitions);
      case SYNTHETIC -> synthetic(spark, syntheticTest > 0 ? syntheticTest : Math.max(1, trainSplit.count() / 8),
          SyntheticClipFeatures.TEST_SEED, featuresCol, labelCol, partitions);
    };
    if (testSplit.width() != trainSplit.width()) {
      throw new IllegalArgumentException(testFlag + ": column '" + featuresCol + "' has " + testSplit.width()
          + " features per row, the training rows have " + trainSplit.width());
    }
    return new Splits(trainSplit.rows(), testSplit.rows(), trainSplit.count(), testSplit.count(),
        trainSplit.width());
  }

  /** One loaded split: its rows, their number and the feature width of its first row. */
  private record Split(Dataset<Row> rows, long count, int width) {
  }

  /** The source and its settings, for the metrics file. */
  void describe(ObjectNode out) {
    out.put("source", source.name().toLowerCase(Locale.ROOT));
    switch (source) {
      case PARQUET -> {
        out.put("train", train);
        out.put("test", test);
      }
      case NPY -> {
        out.put("train_features", train);
        out.put("train_labels", trainLabels);
        out.put("test_features", test);
        out.put("test_labels", testLabels);
      }
      case SYNTHETIC -> {
        ObjectNode s = out.putObject("synthetic");
        s.put("generator", SyntheticClipFeatures.class.getName());
        s.put("dim", synthetic.dim());
        s.put("rank", synthetic.rank());
        s.put("classes", synthetic.numClasses());
        s.put("noise", synthetic.noise());
        s.put("means_seed", synthetic.meansSeed());
        s.put("train_seed", SyntheticClipFeatures.TRAIN_SEED);
        s.put("test_seed", SyntheticClipFeatures.TEST_SEED);
      }
    }
  }

  private long syntheticTrainRows(SparkSession spark) {
    return syntheticTrain > 0 ? syntheticTrain
        : Math.min(SYNTHETIC_MAX_ROWS, SYNTHETIC_ROWS_PER_CORE * spark.sparkContext().defaultParallelism());
  }

  private Split synthetic(SparkSession spark, long rows, long seed, String featuresCol, String labelCol,
      int partitions) {
    Dataset<Row> df = SyntheticClipFeatures.generate(spark, rows, partitions, seed, synthetic)
        .toDF(labelCol, featuresCol);
    return new Split(df, rows, synthetic.dim());
  }

  /**
   * Reads Parquet and converts the features (array of float/double, or vector) and the numeric label. Count and
   * width come from the file as read (Parquet metadata and one row), before the repartitioning shuffle.
   */
  private static Split parquet(SparkSession spark, String flag, String path, String featuresCol,
      String labelCol, int partitions) {
    // Checked first: for a missing path Spark logs a stack trace (FileStreamSink) before its own error.
    org.apache.hadoop.fs.Path hadoopPath = new org.apache.hadoop.fs.Path(path);
    try {
      if (!hadoopPath.getFileSystem(spark.sparkContext().hadoopConfiguration()).exists(hadoopPath)) {
        throw new IllegalArgumentException(flag + ": no such file or directory: " + path);
      }
    } catch (IOException e) {
      throw new IllegalArgumentException(flag + ": cannot access " + path + ": " + e.getMessage(), e);
    }
    Dataset<Row> df;
    try {
      df = spark.read().parquet(path);
    } catch (Exception e) {
      // AnalysisException is checked in Java's eyes but not declared by the Scala API.
      if (e instanceof AnalysisException) {
        throw new IllegalArgumentException(flag + ": cannot read Parquet at " + path + ": "
            + e.getMessage().lines().findFirst().orElse(""), e);
      }
      throw e;
    }
    StructType schema = df.schema();
    DataType features = columnType(flag, path, schema, featuresCol, "--features-col");
    if (features instanceof ArrayType a
        && (a.elementType().equals(DataTypes.FloatType) || a.elementType().equals(DataTypes.DoubleType))) {
      df = df.withColumn(featuresCol, when(col(featuresCol).isNotNull(),
          functions.array_to_vector(col(featuresCol).cast(DataTypes.createArrayType(DataTypes.DoubleType)))));
    } else if (!features.equals(SQLDataTypes.VectorType())) {
      throw new IllegalArgumentException(flag + ": column '" + featuresCol + "' in " + path + " is "
          + features.simpleString() + "; expected array<float>, array<double> or an ML vector");
    }
    DataType label = columnType(flag, path, schema, labelCol, "--label-col");
    if (!(label instanceof NumericType)) {
      throw new IllegalArgumentException(flag + ": column '" + labelCol + "' in " + path + " is "
          + label.simpleString() + "; expected integer or double class indices");
    }
    df = df.withColumn(labelCol, col(labelCol).cast(DataTypes.DoubleType));
    long count = df.count();
    if (count == 0) {
      throw new IllegalArgumentException(flag + ": " + path + " has no rows");
    }
    int width = firstWidth(df, featuresCol);
    return new Split(df.rdd().getNumPartitions() == partitions ? df : df.repartition(partitions), count, width);
  }

  private static DataType columnType(String flag, String path, StructType schema, String name, String nameFlag) {
    for (StructField f : schema.fields()) {
      if (f.name().equals(name)) {
        return f.dataType();
      }
    }
    throw new IllegalArgumentException(flag + ": " + path + " has no column '" + name + "' (columns: "
        + String.join(", ", schema.fieldNames()) + "); name it with " + nameFlag);
  }

  /**
   * Reads a features/labels {@code .npy} pair on the driver into a Dataset. The rows go through the driver's
   * heap twice (arrays, then Spark's local relation), so files larger than a quarter of the heap are refused.
   */
  private static Split npy(SparkSession spark, String featuresFlag, String featuresPath, String labelsFlag,
      String labelsPath, String featuresCol, String labelCol, int partitions) throws IOException {
    double[] labels;
    try {
      labels = NpyLabels.read(Path.of(labelsPath));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(labelsFlag + ": " + e.getMessage(), e);
    }
    List<Row> rows;
    int width;
    try (NpyRowReader reader = Npy.openRows(Path.of(featuresPath))) {
      if (reader.rows() == 0) {
        throw new IllegalArgumentException(featuresFlag + ": " + featuresPath + " has no rows");
      }
      width = reader.cols();
      if (reader.rows() != labels.length) {
        throw new IllegalArgumentException(labelsFlag + ": " + labels.length + " labels in " + labelsPath + " for "
            + reader.rows() + " feature rows in " + featuresPath);
      }
      long bytes = reader.rows() * reader.cols() * Double.BYTES;
      long heap = Runtime.getRuntime().maxMemory();
      if (bytes > heap / 4) {
        throw new IllegalArgumentException(String.format(Locale.ROOT, "%s: %s holds %d × %d features = %.2f GB as"
            + " doubles, more than a quarter of the driver heap (%.2f GB); convert it to Parquet or raise"
            + " --driver-memory", featuresFlag, featuresPath, reader.rows(), reader.cols(), bytes / 1e9, heap / 1e9));
      }
      rows = new ArrayList<>((int) reader.rows());
      for (double label : labels) {
        double[] x = new double[reader.cols()];
        reader.readRow(x);
        rows.add(RowFactory.create(label, Vectors.dense(x)));
      }
    } catch (org.efcp.io.NpyFormatException e) {
      throw new IllegalArgumentException(featuresFlag + ": " + e.getMessage(), e);
    }
    StructType schema = new StructType()
        .add(labelCol, DataTypes.DoubleType, false)
        .add(featuresCol, SQLDataTypes.VectorType(), false);
    return new Split(spark.createDataFrame(rows, schema).repartition(partitions), rows.size(), width);
  }

  /** Feature width of the first row (-1 for a null vector): one small job. */
  private static int firstWidth(Dataset<Row> df, String featuresCol) {
    Row first = df.select(size(functions.vector_to_array(col(featuresCol), "float64"))).head();
    return first.isNullAt(0) ? -1 : first.getInt(0);
  }

  /** The flags among {@code flags} that have a value, in their order. */
  private static List<String> given(CommandLine cl, String[] flags) {
    List<String> given = new ArrayList<>();
    for (String f : flags) {
      if (!cl.string(f).isEmpty()) {
        given.add(f);
      }
    }
    return given;
  }

  /** Names the first missing flag and the flags the user did give. */
  private static void requireAll(CommandLine cl, String[] flags) {
    for (String f : flags) {
      if (cl.string(f).isEmpty()) {
        throw new IllegalArgumentException(f + ": required with " + String.join(", ", given(cl, flags)));
      }
    }
  }
}
