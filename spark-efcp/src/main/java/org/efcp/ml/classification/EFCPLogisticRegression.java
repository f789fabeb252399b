package org.efcp.ml.classification;

import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.param.ParamValidators;
import org.apache.spark.ml.util.DefaultParamsReader;
import org.apache.spark.sql.Dataset;
import org.efcp.ml.train.DatasetSummary;
import org.efcp.ml.train.EfcpTrainer;
import org.efcp.ml.train.TrainingData;
import org.efcp.ml.train.TrainingPlan;
import org.efcp.ml.train.TrainingResult;
import org.efcp.model.BinomialLogisticRegression;
import org.efcp.model.DifferentiableModel;
import org.efcp.model.MultinomialLogisticRegression;

/**
 * Logistic regression (binomial or multinomial, natural-log cross-entropy, no penalty besides the optimizer's
 * decoupled weight decay) trained with an EFCP optimizer: executors compute mini-batch gradients, the driver runs
 * error feedback and the preconditioner (sparse M-FAC by default) and broadcasts new weights.
 *
 * <p>As MLlib's {@code LogisticRegression}: with {@code standardization} the optimizer works on features divided
 * by their standard deviation (features with deviation 0 are ignored) and the coefficients are mapped back, so
 * the model is always in the original feature space; intercepts start at the log class priors.
 *
 * <pre>{@code
 * EFCPLogisticRegressionModel model = new EFCPLogisticRegression()
 *     .setOptimizer("sparse-mfac").setNumEpochs(5).setBatchSize(4096)
 *     .fit(train);
 * }</pre>
 */
public class EFCPLogisticRegression
    extends EfcpClassifier<EFCPLogisticRegression, EFCPLogisticRegressionModel> {
  private static final long serialVersionUID = 1L;

  private final Param<String> family = new Param<>(this, "family",
      "auto (binomial for 2 classes, else multinomial), binomial or multinomial",
      ParamValidators.inArray(new String[] {"auto", "binomial", "multinomial"}));
  private final BooleanParam fitIntercept = new BooleanParam(this, "fitIntercept", "whether to fit intercepts");
  private final BooleanParam standardization = new BooleanParam(this, "standardization",
      "whether the optimizer works on features scaled to unit standard deviation");

  public EFCPLogisticRegression() {
    this(EFCPLogisticRegressionModel.newUid());
  }

  public EFCPLogisticRegression(String uid) {
    super(uid);
    setDefault(family, "auto");
    setDefault(fitIntercept, true);
    setDefault(standardization, true);
  }

  public Param<String> family() { return family; }
  public BooleanParam fitIntercept() { return fitIntercept; }
  public BooleanParam standardization() { return standardization; }

  public String getFamily() { return $(family); }
  public boolean getFitIntercept() { return (Boolean) $(fitIntercept); }
  public boolean getStandardization() { return (Boolean) $(standardization); }

  /** auto (default), binomial or multinomial. */
  public EFCPLogisticRegression setFamily(String value) {
    set(family, valid(family, value == null ? null : value.trim().toLowerCase(java.util.Locale.ROOT)));
    return this;
  }

  /** Whether to fit intercepts (default true). */
  public EFCPLogisticRegression setFitIntercept(boolean value) { set(fitIntercept, value); return this; }

  /** Whether to train on standardized features (default true); the model is in the original space either way. */
  public EFCPLogisticRegression setStandardization(boolean value) { set(standardization, value); return this; }

  @Override
  public EFCPLogisticRegressionModel train(Dataset<?> dataset) {
    long start = System.nanoTime();
    checkDevice();
    checkStepEngine(dataset);
    int declared = declaredNumClasses(dataset);
    try (TrainingData data = TrainingData.prepare(dataset, getFeaturesCol(), getLabelCol(), getWeightCol())) {
      DatasetSummary s = data.summary();
      int numClasses = numClasses(s, declared);
      boolean binomial = switch (getFamily()) {
        case "binomial" -> {
          if (numClasses > 2) {
            throw new IllegalArgumentException("family: binomial needs 2 classes, but labelCol '" + getLabelCol()
                + "' has " + numClasses);
          }
          yield true;
        }
        case "multinomial" -> false;
        default -> numClasses == 2;
      };
      int f = s.numFeatures();
      boolean intercept = getFitIntercept();
      DifferentiableModel model = binomial ? new BinomialLogisticRegression(f, intercept)
          : new MultinomialLogisticRegression(f, numClasses, intercept);
      double[] scale = getStandardization() ? inverseStd(s.std()) : null;
      double[] initial = new double[model.numParameters()];
      if (intercept) {
        priorIntercepts(s, numClasses, binomial, initial, binomial ? f : numClasses * f);
      }
      long steps = EfcpTrainer.stepsPerEpoch(s, getBatchSize()) * getNumEpochs();
      TrainingPlan plan = planBuilder().fingerprint(fingerprint()).build();
      TrainingResult result = EfcpTrainer.train(data, model, initial,
          optimizerConfig(model.layout(), steps), plan, scale);

      int rows = binomial ? 1 : numClasses;
      double[] theta = result.parameters();
      double[] coefficients = new double[rows * f];
      for (int c = 0; c < rows; c++) {
        for (int j = 0; j < f; j++) {
          double v = theta[c * f + j];
          coefficients[c * f + j] = scale == null ? v : v * scale[j];
        }
      }
      double[] intercepts = new double[rows];
      if (intercept) {
        System.arraycopy(theta, rows * f, intercepts, 0, rows);
      }
      EFCPLogisticRegressionModel m = copyValues(
          new EFCPLogisticRegressionModel(uid(), f, numClasses, !binomial, coefficients, intercepts),
          ParamMap.empty()).setParent(this);
      attachSummary(m, dataset, result, start);
      return m;
    }
  }

  /** MLlib's start: intercepts at the centred log class weights (b = log(w1/w0) for binomial). */
  private static void priorIntercepts(DatasetSummary s, int numClasses, boolean binomial, double[] theta, int at) {
    double[] w = new double[numClasses];
    double[] seen = s.classWeights();
    for (int c = 0; c < Math.min(numClasses, seen.length); c++) {
      w[c] = seen[c];
    }
    for (double v : w) {
      if (!(v > 0)) {
        return; // a class without weight: log prior −∞, start from 0 instead
      }
    }
    if (binomial) {
      theta[at] = Math.log(w[1] / w[0]);
      return;
    }
    // Logs of the class fractions, not of the weights: scaling every weight leaves the intercepts bit-identical.
    double total = 0;
    for (double v : w) {
      total += v;
    }
    double mean = 0;
    for (double v : w) {
      mean += Math.log(v / total);
    }
    mean /= numClasses;
    for (int c = 0; c < numClasses; c++) {
      theta[at + c] = Math.log(w[c] / total) - mean;
    }
  }

  /** The reader of saved estimators (found by reflection when a Pipeline or CrossValidator loads). */
  public static DefaultParamsReader<EFCPLogisticRegression> read() {
    return new DefaultParamsReader<>();
  }

  /** Loads an estimator saved by {@code write().save(path)}, with all its params. */
  public static EFCPLogisticRegression load(String path) {
    return read().load(path);
  }

  @Override
  public EFCPLogisticRegression copy(ParamMap extra) {
    return defaultCopy(extra);
  }
}
