package org.efcp.ml.classification;

import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.ParamMap;
import org.apache.spark.ml.util.Identifiable$;
import org.apache.spark.ml.util.MLReader;
import org.apache.spark.ml.util.MLWritable;
import org.apache.spark.ml.util.MLWriter;
import org.efcp.model.Activation;
import org.efcp.model.DifferentiableModel;
import org.efcp.model.MultilayerPerceptron;

/**
 * A feed-forward classifier trained by {@link EFCPMultilayerPerceptronClassifier}: layers [F, h₁, …, C], the
 * hidden layers' activation, softmax output. Raw predictions are the C output logits, probabilities their
 * softmax. {@link #weights()} is the flat parameter vector: per layer l the weight matrix W_l (s_{l+1} × s_l,
 * row-major) then the bias b_l (PyTorch's {@code nn.Linear} order).
 *
 * <p>Saved as MLlib saves its models ({@code model.write().overwrite().save(path)}, {@link #load(String)}): the
 * params as JSON metadata and layers, activation and weights as one Parquet row under {@code path/data}.
 */
public class EFCPMultilayerPerceptronClassificationModel
    extends EfcpClassificationModel<EFCPMultilayerPerceptronClassificationModel> implements MLWritable {
  private static final long serialVersionUID = 1L;

  private final int[] layers;
  private final String activation;
  private final double[] weights;

  /**
   * @param layers [F, h₁, …, C]
   * @param activation relu, sigmoid or tanh
   * @param weights the flat parameters, length as the layers imply
   */
  public EFCPMultilayerPerceptronClassificationModel(String uid, int[] layers, String activation,
      double[] weights) {
    super(uid);
    MultilayerPerceptron net = new MultilayerPerceptron(layers, Activation.parse(activation));
    if (weights.length != net.numParameters()) {
      throw new IllegalArgumentException("weights: expected " + net.numParameters() + " values for layers "
          + java.util.Arrays.toString(layers) + ", got " + weights.length);
    }
    this.layers = layers.clone();
    this.activation = activation;
    this.weights = weights.clone();
  }

  /**
   * An empty model (layers [0, 0], no weights) for {@link java.util.ServiceLoader}: Spark Connect ML finds its
   * transformers there, which requires a public no-arg constructor. Real models come from fit or
   * {@link #load(String)}.
   */
  public EFCPMultilayerPerceptronClassificationModel() {
    super(newUid());
    this.layers = new int[] {0, 0};
    this.activation = "relu";
    this.weights = new double[0];
  }

  /** [F, h₁, …, C] (a copy). */
  public int[] layers() {
    return layers.clone();
  }

  /** The hidden layers' activation: relu, sigmoid or tanh. */
  public String activation() {
    return activation;
  }

  /** The flat parameters (a copy); see the class comment for the layout. */
  public Vector weights() {
    return Vectors.dense(weights.clone());
  }

  @Override
  public int numFeatures() {
    return layers[0];
  }

  @Override
  public int numClasses() {
    return layers[layers.length - 1];
  }

  @Override
  protected DifferentiableModel newScorer() {
    return new MultilayerPerceptron(layers, Activation.parse(activation));
  }

  @Override
  protected double[] scorerParameters() {
    return weights;
  }

  @Override
  public Vector raw2probabilityInPlace(Vector rawPrediction) {
    return softmaxInPlace(rawPrediction);
  }

  @Override
  public EFCPMultilayerPerceptronClassificationModel copy(ParamMap extra) {
    EFCPMultilayerPerceptronClassificationModel m = copyValues(
        new EFCPMultilayerPerceptronClassificationModel(uid(), layers, activation, weights), extra);
    if (hasSummary()) {
      m.setSummary(summary());
    }
    return m.setParent(parent());
  }

  @Override
  public String toString() {
    return "EFCPMultilayerPerceptronClassificationModel: uid=" + uid() + ", layers="
        + java.util.Arrays.toString(layers) + ", activation=" + activation;
  }

  /** Writes the params, layers, activation and weights; see the class comment. */
  @Override
  public MLWriter write() {
    return new EFCPMultilayerPerceptronClassificationModelWriter(this);
  }

  /** The reader of saved models (found by reflection when a PipelineModel or CrossValidatorModel loads). */
  public static MLReader<EFCPMultilayerPerceptronClassificationModel> read() {
    return new EFCPMultilayerPerceptronClassificationModelReader();
  }

  /**
   * Loads a model saved by {@link #write()}.
   *
   * @throws IllegalArgumentException "path ..." when {@code path} holds another kind of stage, "formatVersion:
   *     ..." when its data was written in a layout this version does not read
   */
  public static EFCPMultilayerPerceptronClassificationModel load(String path) {
    return read().load(path);
  }

  static String newUid() {
    return Identifiable$.MODULE$.randomUID("efcpMlpc");
  }
}
