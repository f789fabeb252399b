package org.efcp.ml.classification;

import org.apache.spark.ml.linalg.Matrix;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.util.MLReader;

/** Loads what {@link EFCPLogisticRegressionModelWriter} saved; see {@link SavedModel} for the errors. */
final class EFCPLogisticRegressionModelReader extends MLReader<EFCPLogisticRegressionModel> {
  @Override
  public EFCPLogisticRegressionModel load(String path) {
    SavedModel saved = SavedModel.load(path, sparkSession(), EFCPLogisticRegressionModel.class,
        EFCPLogisticRegressionModelWriter.SCHEMA);
    Matrix m = saved.get("coefficientMatrix");
    // The model keeps its coefficients row-major; the saved matrix may be stored either way.
    double[] coefficients = new double[m.numRows() * m.numCols()];
    for (int r = 0; r < m.numRows(); r++) {
      for (int c = 0; c < m.numCols(); c++) {
        coefficients[r * m.numCols() + c] = m.apply(r, c);
      }
    }
    Vector intercepts = saved.get("interceptVector");
    int numFeatures = saved.get("numFeatures");
    int numClasses = saved.get("numClasses");
    boolean multinomial = saved.get("isMultinomial");
    EFCPLogisticRegressionModel model = new EFCPLogisticRegressionModel(saved.uid(), numFeatures, numClasses,
        multinomial, coefficients, intercepts.toArray());
    saved.applyParams(model);
    return model;
  }
}
