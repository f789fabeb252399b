package org.efcp.ml.classification;

import java.util.Arrays;
import java.util.Locale;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.param.IntArrayParam;
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
import org.efcp.model.Activation;
import org.efcp.model.MultilayerPerceptron;

/**
 * A multilayer perceptron classifier (hidden layers with relu, sigmoid or tanh, softmax output, cross-entropy)
 * trained with an EFCP optimizer on Spark. {@code layers} includes the input and output sizes, as in MLlib's
 * {@code MultilayerPerceptronClassifier}; labels must be below the output size.
 *
 * <pre>{@code
 * new EFCPMultilayerPerceptronClassifier().setLayers(new int[] {784, 256, 10}).setActivation("relu").fit(train);
 * }</pre>
 */
public class EFCPMultilayerPerceptronClassifier
    extends EfcpClassifier<EFCPMultilayerPerceptronClassifier, EFCPMultilayerPerceptronClassificationModel> {
  private static final long serialVersionUID = 1L;

  private final IntArrayParam layers = new IntArrayParam(this, "layers",
      "layer sizes [inputs, hidden..., classes]: at least 2 entries, each >= 1, the last >= 2");
  private final Param<String> activation = new Param<>(this, "activation",
      "activation of the hidden layers: relu, sigmoid or tanh",
      ParamValidators.inArray(new String[] {"relu", "sigmoid", "tanh"}));
  private final Param<Vector> initialWeights = new Param<>(this, "initialWeights",
      "initial flat weights (per layer W row-major then b); unset: seeded He/Glorot-uniform weights");

  public EFCPMultilayerPerceptronClassifier() {
    this(EFCPMultilayerPerceptronClassificationModel.newUid());
  }

  public EFCPMultilayerPerceptronClassifier(String uid) {
    super(uid);
    setDefault(activation, "relu");
  }

  public IntArrayParam layers() { return layers; }
  public Param<String> activation() { return activation; }
  public Param<Vector> initialWeights() { return initialWeights; }

  /** The layer sizes, or null when unset. */
  public int[] getLayers() { return isDefined(layers) ? $(layers) : null; }
  public String getActivation() { return $(activation); }
  public Vector getInitialWeights() { return isDefined(initialWeights) ? $(initialWeights) : null; }

  /** [inputs, hidden…, classes]; required. */
  public EFCPMultilayerPerceptronClassifier setLayers(int[] value) {
    try {
      new MultilayerPerceptron(value, Activation.RELU); // validates the sizes
    } catch (IllegalArgumentException e) {
      throw renamed("layers", e);
    }
    set(layers, value);
    return this;
  }

  /** relu (default), sigmoid or tanh. */
  public EFCPMultilayerPerceptronClassifier setActivation(String value) {
    set(activation, Activation.parse(value).name().toLowerCase(Locale.ROOT));
    return this;
  }

  /** Starting weights (length as the layers imply); unset: seeded initialization. */
  public EFCPMultilayerPerceptronClassifier setInitialWeights(Vector value) {
    set(initialWeights, value);
    return this;
  }

  @Override
  public EFCPMultilayerPerceptronClassificationModel train(Dataset<?> dataset) {
    long start = System.nanoTime();
    checkDevice();
    checkStepEngine(dataset);
    int[] sizes = getLayers();
    if (sizes == null) {
      throw new IllegalArgumentException("layers: must be set, e.g. [inputs, hidden, classes]");
    }
    MultilayerPerceptron network = new MultilayerPerceptron(sizes, Activation.parse(getActivation()));
    double[] initial;
    if (getInitialWeights() != null) {
      initial = getInitialWeights().toArray();
      if (initial.length != network.numParameters()) {
        throw new IllegalArgumentException("initialWeights: expected " + network.numParameters()
            + " values for layers " + Arrays.toString(sizes) + ", got " + initial.length);
      }
    } else {
      initial = network.initialParameters(getSeed());
    }
    int outputs = sizes[sizes.length - 1];
    int declared = declaredNumClasses(dataset);
    if (declared > outputs) {
      throw new IllegalArgumentException("layers: the output layer has " + outputs + " units but labelCol '"
          + getLabelCol() + "' declares " + declared + " classes");
    }
    try (TrainingData data = TrainingData.prepare(dataset, getFeaturesCol(), getLabelCol(), getWeightCol())) {
      DatasetSummary s = data.summary();
      if (s.numFeatures() != sizes[0]) {
        throw new IllegalArgumentException("layers: the input layer has " + sizes[0] + " units but featuresCol '"
            + getFeaturesCol() + "' has " + s.numFeatures() + " features");
      }
      if (s.labelCount() > outputs) {
        throw new IllegalArgumentException("labelCol '" + getLabelCol() + "': label " + (s.labelCount() - 1)
            + " is not below the " + outputs + " outputs of layers " + Arrays.toString(sizes));
      }
      long steps = EfcpTrainer.stepsPerEpoch(s, getBatchSize()) * getNumEpochs();
      TrainingPlan plan = planBuilder().fingerprint(fingerprint()).build();
      TrainingResult result = EfcpTrainer.train(data, network, initial,
          optimizerConfig(network.layout(), steps), plan, null);
      EFCPMultilayerPerceptronClassificationModel m = copyValues(
          new EFCPMultilayerPerceptronClassificationModel(uid(), sizes, getActivation(), result.parameters()),
          ParamMap.empty()).setParent(this);
      attachSummary(m, dataset, result, start);
      return m;
    }
  }

  /** The reader of saved estimators (found by reflection when a Pipeline or CrossValidator loads). */
  public static DefaultParamsReader<EFCPMultilayerPerceptronClassifier> read() {
    return new DefaultParamsReader<>();
  }

  /** Loads an estimator saved by {@code write().save(path)}, with all its params. */
  public static EFCPMultilayerPerceptronClassifier load(String path) {
    return read().load(path);
  }

  @Override
  public EFCPMultilayerPerceptronClassifier copy(ParamMap extra) {
    return defaultCopy(extra);
  }
}
