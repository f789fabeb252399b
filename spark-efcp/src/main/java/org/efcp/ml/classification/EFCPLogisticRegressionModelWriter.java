package org.efcp.ml.classification;

import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.util.MLWriter;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Saves an {@link EFCPLogisticRegressionModel}: params metadata plus one data row (numClasses, numFeatures,
 * isMultinomial, coefficientMatrix, interceptVector, formatVersion), the columns of MLlib's
 * {@code LogisticRegressionModel} data.
 */
final class EFCPLogisticRegressionModelWriter extends MLWriter {
  static final StructType SCHEMA = new StructType()
      .add("numClasses", DataTypes.IntegerType, false)
      .add("numFeatures", DataTypes.IntegerType, false)
      .add("isMultinomial", DataTypes.BooleanType, false)
      .add("coefficientMatrix", SQLDataTypes.MatrixType(), false)
      .add("interceptVector", SQLDataTypes.VectorType(), false);

  private final EFCPLogisticRegressionModel model;

  EFCPLogisticRegressionModelWriter(EFCPLogisticRegressionModel model) {
    this.model = model;
  }

  @Override
  public void saveImpl(String path) {
    SavedModel.save(model, path, sparkSession(), SCHEMA, model.numClasses(), model.numFeatures(),
        model.isMultinomial(), model.coefficientMatrix(), model.interceptVector());
  }
}
