package org.efcp.ml.classification;

import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Saves an {@link EFCPMultilayerPerceptronClassificationModel}: params metadata plus one data row (layers,
 * activation, weights, formatVersion).
 */
final class EFCPMultilayerPerceptronClassificationModelWriter extends MLWriter {
  static final StructType SCHEMA = new StructType()
      .add("layers", DataTypes.createArrayType(DataTypes.IntegerType, false), false)
      .add("activation", DataTypes.StringType, false)
      .add("weights", SQLDataTypes.VectorType(), false);

  private final EFCPMultilayerPerceptronClassificationModel model;

  EFCPMultilayerPerceptronClassificationModelWriter(EFCPMultilayerPerceptronClassificationModel model) {
    this.model = model;
  }

  @Override
  public void saveImpl(String path) {
    SavedModel.save(model, path, sparkSession(), SCHEMA, model.layers(), model.activation(), model.weights());
  }
}
