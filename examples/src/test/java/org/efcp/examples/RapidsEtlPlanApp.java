package org.efcp.examples;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.raise_error;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.when;

import java.util.ArrayList;
import java.util.List;

import org.apache.spark.ml.functions;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * The application {@link RapidsEtlPlanTest} submits with the RAPIDS plugin in explainOnly mode. It writes
 * CLIP-shaped rows as the linear-probing job reads them (features array&lt;float&gt;, label int, plus two rows with
 * a null), then runs the job's input ETL between the lines {@link #BEGIN} and {@link #END} on stderr, where the
 * plugin also logs, so the test can pick out the plugin's verdict on exactly that plan.
 *
 * <p>Arguments: the Parquet directory to write, the feature width. Prints {@code conf KEY=VALUE} for every
 * {@code spark.*} setting of the session and one {@code etl rows=N width=D} line for the ETL's result.
 */
public final class RapidsEtlPlanApp {

  static final String BEGIN = "RAPIDS_ETL_BEGIN";
  static final String END = "RAPIDS_ETL_END";
  static final long ROWS = 500;

  private static final StructType INPUT_SCHEMA = new StructType()
      .add("features", DataTypes.createArrayType(DataTypes.FloatType), true)
      .add("label", DataTypes.IntegerType, true);

  private RapidsEtlPlanApp() {
  }

  public static void main(String[] args) {
    String dir = args[0];
    int width = Integer.parseInt(args[1]);
    SparkSession spark = SparkSession.builder().getOrCreate();
    try {
      for (scala.Tuple2<String, String> kv : spark.sparkContext().getConf().getAll()) {
        System.err.println("conf " + kv._1() + "=" + kv._2());
      }
      writeInput(spark, dir, width);
      System.err.println(BEGIN);
      List<Row> rows = etl(spark, dir, width).collectAsList();
      System.err.println(END);
      long wide = rows.stream().filter(r -> ((Vector) r.getAs("features")).size() == width).count();
      System.err.println("etl rows=" + rows.size() + " width=" + (wide == rows.size() ? width : -1));
    } finally {
      spark.stop();
    }
  }

  /**
   * The linear-probing job's input ETL: Parquet scan, drop rows with a null, label as double, one error for a
   * feature array of the wrong width, array to ML vector.
   */
  static Dataset<Row> etl(SparkSession spark, String path, int width) {
    return spark.read().parquet(path)
        .filter(col("features").isNotNull().and(col("label").isNotNull()))
        .select(col("label").cast(DataTypes.DoubleType).as("label"),
            when(size(col("features")).equalTo(width), functions.array_to_vector(col("features")))
                .otherwise(raise_error(lit("features: expected " + width + " values per row")))
                .as("features"));
  }

  private static void writeInput(SparkSession spark, String dir, int width) {
    SyntheticClipFeatures.Options opts = new SyntheticClipFeatures.Options().withDim(width).withNumClasses(10);
    List<Float> oneRow = new ArrayList<>();
    for (int j = 0; j < width; j++) {
      oneRow.add(1f / width);
    }
    Dataset<Row> withNulls = spark.createDataFrame(
        List.of(RowFactory.create(null, 3), RowFactory.create(oneRow, null)), INPUT_SCHEMA);
    SyntheticClipFeatures.generate(spark, ROWS, 2, SyntheticClipFeatures.TRAIN_SEED, opts)
        .select(functions.vector_to_array(col("features"), "float32").as("features"),
            col("label").cast(DataTypes.IntegerType).as("label"))
        .unionByName(withNulls)
        .write().mode("overwrite").parquet(dir);
  }
}
