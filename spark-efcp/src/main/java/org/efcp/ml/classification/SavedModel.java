package org.efcp.ml.classification;

import java.util.Arrays;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.ml.param.Params;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.ml.util.DefaultParamsWriter;
import org.apache.spark.ml.util.ReadWriteUtils;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.CatalystTypeConverters;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.sql.types.UserDefinedType;
import scala.Option;

/**
 * The saved form of an EFCP model, as MLlib's models: the params as JSON metadata under {@code path/metadata}
 * and the learned values as one row under {@code path/data} (Parquet), with a {@code formatVersion} column so
 * that a reader can refuse a layout it does not know.
 *
 * <p>The data row goes through Spark's {@code ReadWriteUtils} (Spark-internal, public in bytecode), as MLlib's
 * own models do: it writes Parquet, except when Spark Connect's model cache offloads a model to the driver's
 * local disk ({@code MLWriter.saveToLocal}), where it writes an Arrow file next to the local metadata. An Arrow
 * file keeps a vector or matrix column as its underlying struct; {@link #get(String)} turns it back through
 * the column's UDT (with the Spark-internal {@code CatalystTypeConverters}).
 */
final class SavedModel {
  /** The data-row layout this code writes and the only one it reads. */
  static final int FORMAT_VERSION = 1;
  static final String FORMAT_VERSION_COL = "formatVersion";

  private final DefaultParamsReader.Metadata metadata;
  private final Row data;
  private final StructType schema;

  private SavedModel(DefaultParamsReader.Metadata metadata, Row data, StructType schema) {
    this.metadata = metadata;
    this.data = data;
    this.schema = schema;
  }

  static String dataPath(String path) {
    return new Path(path, "data").toString();
  }

  /**
   * Writes {@code model}'s params and one data row: {@code values} in the order of {@code schema}, followed by
   * the {@code formatVersion} column.
   */
  static void save(Params model, String path, SparkSession spark, StructType schema, Object... values) {
    DefaultParamsWriter.saveMetadata(model, path, spark, Option.empty(), Option.empty());
    Object[] row = Arrays.copyOf(values, values.length + 1);
    row[values.length] = FORMAT_VERSION;
    StructType withVersion = schema.add(FORMAT_VERSION_COL, DataTypes.IntegerType, false);
    ReadWriteUtils.saveDataFrame(dataPath(path),
        spark.createDataFrame(List.of(RowFactory.create(row)), withVersion));
  }

  /**
   * Reads the metadata and the data row saved under {@code path} by a writer of {@code schema}.
   *
   * @throws IllegalArgumentException "path ..." when the path holds another class or not exactly one data row,
   *     "formatVersion: ..." when the row has a layout this code does not know
   */
  static SavedModel load(String path, SparkSession spark, Class<?> expected, StructType schema) {
    DefaultParamsReader.Metadata metadata = DefaultParamsReader.loadMetadata(path, spark, "");
    if (!expected.getName().equals(metadata.className())) {
      throw new IllegalArgumentException("path '" + path + "': holds a " + metadata.className() + ", not a "
          + expected.getName());
    }
    List<Row> rows = ReadWriteUtils.loadDataFrame(dataPath(path), spark).takeAsList(2);
    if (rows.size() != 1) {
      throw new IllegalArgumentException("path '" + path + "': expected one data row, found "
          + (rows.isEmpty() ? "none" : "several"));
    }
    Row row = rows.get(0);
    if (!Arrays.asList(row.schema().fieldNames()).contains(FORMAT_VERSION_COL)) {
      throw new IllegalArgumentException(FORMAT_VERSION_COL + ": missing from " + dataPath(path)
          + " (not written by an EFCP model writer)");
    }
    int version = row.getInt(row.fieldIndex(FORMAT_VERSION_COL));
    if (version != FORMAT_VERSION) {
      throw new IllegalArgumentException(FORMAT_VERSION_COL + ": " + version + " in " + dataPath(path)
          + " is not supported; this version of " + expected.getSimpleName() + " reads format "
          + FORMAT_VERSION + " (was the model saved by a newer EFCP?)");
    }
    return new SavedModel(metadata, row, schema);
  }

  /** The uid the model was saved with. */
  String uid() {
    return metadata.uid();
  }

  /** The value of the data column {@code name}, a {@code Vector} or {@code Matrix} for such a column. */
  @SuppressWarnings("unchecked")
  <T> T get(String name) {
    Object value = data.getAs(name);
    if (value instanceof Row struct && schema.apply(name).dataType() instanceof UserDefinedType<?> udt) {
      return (T) udt.deserialize(CatalystTypeConverters.convertToCatalyst(struct));
    }
    return (T) value;
  }

  /** The elements of the array column {@code name}. */
  <T> List<T> getList(String name) {
    return data.getList(data.fieldIndex(name));
  }

  /** Sets the saved params (and param defaults) on {@code model}. */
  void applyParams(Params model) {
    metadata.getAndSetParams(model, Option.empty());
  }
}
