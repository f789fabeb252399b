package org.efcp.ml.train;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.efcp.model.DenseBlock;

/**
 * The training rows of a fit: one validating summarizer pass stacks every partition into a
 * {@link TrainingBlock} persisted MEMORY_AND_DISK and returns the {@link DatasetSummary}.
 *
 * <p>Bad input fails here, before any training job, with an {@link IllegalArgumentException} whose message
 * starts with the param and column it concerns: missing or mistyped columns (checked on the driver, before any
 * job), null or non-finite features, vectors of different sizes, labels that are not non-negative integers,
 * weights that are negative or not finite, and an empty dataset or one whose weights are all 0.
 */
public final class TrainingData implements AutoCloseable {
  private final JavaRDD<TrainingBlock> blocks;
  private final DatasetSummary summary;

  private TrainingData(JavaRDD<TrainingBlock> blocks, DatasetSummary summary) {
    this.blocks = blocks;
    this.summary = summary;
  }

  public JavaRDD<TrainingBlock> blocks() {
    return blocks;
  }

  public DatasetSummary summary() {
    return summary;
  }

  /** Unpersists the blocks. */
  @Override
  public void close() {
    blocks.unpersist(false);
  }

  /**
   * Checks the schema, then runs the summarizer pass.
   *
   * @param weightCol "" for unweighted rows
   */
  public static TrainingData prepare(Dataset<?> dataset, String featuresCol, String labelCol, String weightCol) {
    checkSchema(dataset.schema(), featuresCol, labelCol, weightCol);
    boolean weighted = weightCol != null && !weightCol.isEmpty();
    Column w = weighted ? col(weightCol).cast("double") : lit(1.0);
    Dataset<Row> rows = dataset.select(col(featuresCol), col(labelCol).cast("double"), w);
    String fName = "featuresCol '" + featuresCol + "'";
    String yName = "labelCol '" + labelCol + "'";
    String wName = "weightCol '" + weightCol + "'";
    JavaRDD<TrainingBlock> blocks = rows.toJavaRDD()
        .mapPartitionsWithIndex((p, it) -> List.of(stack(p, it, fName, yName, wName)).iterator(), true)
        .setName("EFCP training blocks")
        .persist(StorageLevel.MEMORY_AND_DISK());
    PartitionStats[] stats;
    try {
      stats = blocks.map(TrainingBlock::stats).collect().toArray(new PartitionStats[0]);
    } catch (Exception e) {
      blocks.unpersist(false);
      throw SparkErrors.inputError(e);
    }
    DatasetSummary summary;
    try {
      summary = DatasetSummary.of(stats, fName);
      if (summary.numRows() == 0) {
        throw new IllegalArgumentException("dataset: no rows to train on");
      }
      if (!(summary.weightSum() > 0)) {
        throw new IllegalArgumentException(wName + ": every weight is 0");
      }
    } catch (IllegalArgumentException e) {
      blocks.unpersist(false);
      throw e;
    }
    return new TrainingData(blocks, summary);
  }

  /**
   * Checks, without running a job, that the features column is a vector and the label and weight columns are
   * numeric.
   *
   * @param weightCol "" for unweighted rows
   * @throws IllegalArgumentException "featuresCol 'name': ...", "labelCol 'name': ..." or "weightCol 'name': ..."
   */
  public static void checkSchema(StructType schema, String featuresCol, String labelCol, String weightCol) {
    requireColumn(schema, "featuresCol", featuresCol, true);
    requireColumn(schema, "labelCol", labelCol, false);
    if (weightCol != null && !weightCol.isEmpty()) {
      requireColumn(schema, "weightCol", weightCol, false);
    }
  }

  private static void requireColumn(StructType schema, String param, String name, boolean vector) {
    if (name == null || name.isEmpty() || !Arrays.asList(schema.fieldNames()).contains(name)) {
      throw new IllegalArgumentException(param + " '" + name + "': no such column (columns: "
          + String.join(", ", schema.fieldNames()) + ")");
    }
    StructField field = schema.apply(name);
    DataType type = field.dataType();
    if (vector && !(type instanceof VectorUDT)) {
      throw new IllegalArgumentException(param + " '" + name + "': must be of type vector, got " + type.simpleString());
    }
    if (!vector && !(type instanceof NumericType)) {
      throw new IllegalArgumentException(param + " '" + name + "': must be numeric, got " + type.simpleString());
    }
  }

  /** Validates and stacks one partition's rows. */
  private static TrainingBlock stack(int partition, Iterator<Row> it, String fName, String yName, String wName) {
    PartitionStats stats = new PartitionStats(partition);
    int f = -1;
    double[] x = new double[0];
    double[] y = new double[16];
    double[] w = new double[16];
    int n = 0;
    while (it.hasNext()) {
      Row row = it.next();
      RowValues.requireValue(row, 0, fName, n, partition);
      double[] values = ((Vector) row.get(0)).toArray();
      if (f < 0) {
        f = values.length;
        if (f == 0) {
          throw new IllegalArgumentException(fName + ": empty feature vector in row 0 of partition " + partition);
        }
        stats.numFeatures = f;
        x = new double[16 * f];
      } else if (values.length != f) {
        throw new IllegalArgumentException(fName + ": vectors have different sizes (" + f + " and "
            + values.length + " in row " + n + " of partition " + partition + ")");
      }
      for (int j = 0; j < f; j++) {
        if (!Double.isFinite(values[j])) {
          throw new IllegalArgumentException(fName + ": value " + values[j] + " at index " + j + " of row " + n
              + " in partition " + partition + " (features must be finite)");
        }
      }
      double label = RowValues.label(row, 1, yName, n, partition);
      double weight = RowValues.weight(row, 2, wName, n, partition);
      if (n == y.length) {
        y = Arrays.copyOf(y, 2 * n);
        w = Arrays.copyOf(w, 2 * n);
        x = Arrays.copyOf(x, 2 * n * f);
      }
      System.arraycopy(values, 0, x, n * f, f);
      y[n] = label;
      w[n] = weight;
      stats.add(values, (int) label, weight);
      n++;
    }
    DenseBlock block = n == 0 ? null
        : new DenseBlock(n, f, Arrays.copyOf(x, n * f), Arrays.copyOf(y, n), Arrays.copyOf(w, n));
    return new TrainingBlock(partition, block, stats);
  }
}
