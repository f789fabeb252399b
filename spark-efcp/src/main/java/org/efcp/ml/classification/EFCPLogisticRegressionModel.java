package org.efcp.ml.classification;

import org.apache.spark.ml.linalg.DenseMatrix;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.Matrix;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.Identifiable$;
import org.efcp.model.BinomialLogisticRegression;
import org.efcp.model.DifferentiableModel;
import org.efcp.model.MultinomialLogisticRegression;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;

/**
 * A logistic-regression model trained by {@link EFCPLogisticRegression}, in MLlib's conventions: multinomial
 * models have a C × F coefficient matrix and C intercepts, raw predictions are the C margins and probabilities
 * their softmax; binomial models have a 1 × F matrix and one intercept, raw predictions (−z, z) and
 * probabilities (σ(−z), σ(z)) for the margin z = β·x + b. Coefficients are in the original feature space.
 *
 * <p>Saved as MLlib saves its models ({@code model.write().overwrite().save(path)}, {@link #load(String)}): the
 * params as JSON metadata and the coefficients as one Parquet row under {@code path/data}.
 */
public class EFCPLogisticRegressionModel extends EfcpClassificationModel<EFCPLogisticRegressionModel>
    implements MLWritable {
  private static final long serialVersionUID = 1L;

  private final int numFeatures;
  private final int numClasses;
  private final boolean multinomial;
  /**
   * θ in the efcp-core model's layout: the row-major rows × numFeatures coefficients (rows = numClasses or 1),
   * then the rows intercepts.
   */
  private final double[] parameters;

  /**
   * @param coefficients row-major (multinomial ? numClasses : 1) × numFeatures
   * @param intercepts numClasses (multinomial) or 1 (binomial) values
   */
  public EFCPLogisticRegressionModel(String uid, int numFeatures, int numClasses, boolean multinomial,
      double[] coefficients, double[] intercepts) {
    super(uid);
    int rows = multinomial ? numClasses : 1;
    if (numFeatures < 1 || numClasses < 2 || (!multinomial && numClasses != 2)) {
      throw new IllegalArgumentException("numClasses: " + numClasses + " classes with " + numFeatures
          + " features and multinomial=" + multinomial + " is not a logistic-regression model");
    }
    if (coefficients.length != rows * numFeatures || intercepts.length != rows) {
      throw new IllegalArgumentException("coefficients: expected " + rows + " x " + numFeatures + " and " + rows
          + " intercepts, got " + coefficients.length + " and " + intercepts.length);
    }
    this.numFeatures = numFeatures;
    this.numClasses = numClasses;
    this.multinomial = multinomial;
    this.parameters = new double[coefficients.length + intercepts.length];
    System.arraycopy(coefficients, 0, parameters, 0, coefficients.length);
    System.arraycopy(intercepts, 0, parameters, coefficients.length, intercepts.length);
  }

  /**
   * An empty model (no features, no classes) for {@link java.util.ServiceLoader}: Spark Connect ML finds its
   * transformers there, which requires a public no-arg constructor. Real models come from fit or
   * {@link #load(String)}.
   */
  public EFCPLogisticRegressionModel() {
    super(newUid());
    this.numFeatures = 0;
    this.numClasses = 0;
    this.multinomial = true;
    this.parameters = new double[0];
  }

  @Override
  public int numFeatures() {
    return numFeatures;
  }

  @Override
  public int numClasses() {
    return numClasses;
  }

  /** Whether this is a multinomial (softmax) model; false for a binomial one. */
  public boolean isMultinomial() {
    return multinomial;
  }

  /** C × F (multinomial) or 1 × F (binomial) coefficients. */
  public Matrix coefficientMatrix() {
    int rows = rowCount();
    return new DenseMatrix(rows, numFeatures, java.util.Arrays.copyOf(parameters, rows * numFeatures), true);
  }

  /** C (multinomial) or 1 (binomial) intercepts. */
  public Vector interceptVector() {
    int n = parameters.length;
    return Vectors.dense(java.util.Arrays.copyOfRange(parameters, n - rowCount(), n));
  }

  /**
   * The coefficients of a binomial model.
   *
   * @throws IllegalStateException for a multinomial model (use {@link #coefficientMatrix()})
   */
  public Vector coefficients() {
    requireBinomial("coefficients");
    return Vectors.dense(java.util.Arrays.copyOf(parameters, numFeatures));
  }

  /** The intercept of a binomial model; see {@link #coefficients()}. */
  public double intercept() {
    requireBinomial("intercept");
    return parameters[numFeatures];
  }

  private void requireBinomial(String what) {
    if (multinomial) {
      throw new IllegalStateException(what + ": a multinomial model has a coefficient matrix and an intercept "
          + "vector; use coefficientMatrix() and interceptVector()");
    }
  }

  /** Coefficient rows: numClasses (multinomial) or 1 (binomial). */
  private int rowCount() {
    return multinomial ? numClasses : 1;
  }

  /** The efcp-core model whose raw scores are MLlib's: C margins, or (−z, z) for binomial. */
  @Override
  protected DifferentiableModel newScorer() {
    return multinomial ? new MultinomialLogisticRegression(numFeatures, numClasses, true)
        : new BinomialLogisticRegression(numFeatures, true);
  }

  @Override
  protected double[] scorerParameters() {
    return parameters;
  }

  @Override
  public Vector raw2probabilityInPlace(Vector rawPrediction) {
    double[] v = ((DenseVector) rawPrediction).values();
    if (!multinomial) {
      double p1 = 1.0 / (1.0 + Math.exp(-v[1]));
      v[0] = 1.0 - p1;
      v[1] = p1;
      return rawPrediction;
    }
    return softmaxInPlace(rawPrediction);
  }

  @Override
  public EFCPLogisticRegressionModel copy(ParamMap extra) {
    EFCPLogisticRegressionModel m = copyValues(
        new EFCPLogisticRegressionModel(uid(), numFeatures, numClasses, multinomial,
            java.util.Arrays.copyOf(parameters, rowCount() * numFeatures), interceptVector().toArray()),
        extra);
    if (hasSummary()) {
      m.setSummary(summary());
    }
    return m.setParent(parent());
  }

  @Override
  public String toString() {
    return "EFCPLogisticRegressionModel: uid=" + uid() + ", numClasses=" + numClasses + ", numFeatures="
        + numFeatures + (multinomial ? ", multinomial" : ", binomial");
  }

  /** Writes the params and the coefficients; see the class comment. */
  @Override
  public MLWriter write() {
    return new EFCPLogisticRegressionModelWriter(this);
  }

  /** The reader of saved models (found by reflection when a PipelineModel or CrossValidatorModel loads). */
  public static MLReader<EFCPLogisticRegressionModel> read() {
    return new EFCPLogisticRegressionModelReader();
  }

  /**
   * Loads a model saved by {@link #write()}.
   *
   * @throws IllegalArgumentException "path ..." when {@code path} holds another kind of stage, "formatVersion:
   *     ..." when its data was written in a layout this version does not read
   */
  public static EFCPLogisticRegressionModel load(String path) {
    return read().load(path);
  }

  static String newUid() {
    return Identifiable$.MODULE$.randomUID("efcpLogreg");
  }
}
