package org.efcp.ml.classification;

import org.apache.spark.ml.classification.ProbabilisticClassificationModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.Param;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.efcp.ml.train.TrainingData;
import org.efcp.ml.util.PendingUid;
import org.efcp.model.DenseBlock;
import org.efcp.model.DifferentiableModel;

/**
 * What every EFCP classification model shares: the uid hand-over for Java subclasses, {@code weightCol}, the
 * training summary and {@link #evaluate(Dataset)}.
 *
 * @param <M> the concrete model
 */
public abstract class EfcpClassificationModel<M extends EfcpClassificationModel<M>>
    extends ProbabilisticClassificationModel<Vector, M> {
  private static final long serialVersionUID = 1L;

  private final String uid;
  private transient EFCPTrainingSummary trainingSummary;
  /** The efcp-core model that scores rows, one per thread: its scratch buffers are not thread-safe. */
  private transient volatile ThreadLocal<DifferentiableModel> scorer;

  private final Param<String> weightCol = new Param<>(this, "weightCol",
      "column of non-negative row weights used by summaries (empty or unset: every row has weight 1)");

  /** Constructor chain of subclasses: {@code super(uid)}; see {@link PendingUid}. */
  protected EfcpClassificationModel(String uid) {
    this(PendingUid.stash(uid), true);
  }

  private EfcpClassificationModel(String uid, boolean stashed) {
    super();
    this.uid = uid;
    PendingUid.clear();
  }

  @Override
  public String uid() {
    return uid != null ? uid : PendingUid.current();
  }

  public Param<String> weightCol() {
    return weightCol;
  }

  /** The weight column, or "" for unweighted summaries. */
  public String getWeightCol() {
    return isDefined(weightCol) ? $(weightCol) : "";
  }

  @SuppressWarnings("unchecked")
  public M setWeightCol(String value) {
    set(weightCol, value);
    return (M) this;
  }

  /** Whether this model came from a fit in this JVM (summaries are not saved). */
  public boolean hasSummary() {
    return trainingSummary != null;
  }

  /**
   * The summary of the fit that produced this model.
   *
   * @throws IllegalStateException when there is none ({@link #hasSummary()} is false)
   */
  public EFCPTrainingSummary summary() {
    if (trainingSummary == null) {
      throw new IllegalStateException("summary: this model has no training summary (it was loaded or copied)");
    }
    return trainingSummary;
  }

  void setSummary(EFCPTrainingSummary summary) {
    this.trainingSummary = summary;
  }

  /**
   * Classification metrics of this model on {@code dataset}, which needs the label column. Rows are weighted by
   * {@code weightCol} when it is set and {@code dataset} has that column; otherwise every row weighs 1 and the
   * summary's {@code weightCol()} is "" (as MLlib's summaries: a model fitted with weights scores a test set
   * without them). The metrics are computed on first use; see {@link EFCPClassificationSummary} for the rows they
   * refuse.
   *
   * @throws IllegalArgumentException before any job, naming the param and column, when the features column is
   *     missing or not a vector, the label column is missing or not numeric, or the weight column is not numeric
   */
  public EFCPClassificationSummary evaluate(Dataset<?> dataset) {
    String weights = java.util.Arrays.asList(dataset.columns()).contains(getWeightCol()) ? getWeightCol() : "";
    TrainingData.checkSchema(dataset.schema(), getFeaturesCol(), getLabelCol(), weights);
    M copy = copy(org.apache.spark.ml.param.ParamMap.empty());
    // Only the prediction, under a fresh name: the dataset may already hold columns of a transform.
    copy.setPredictionCol("prediction_" + java.util.UUID.randomUUID().toString().replace('-', '_'));
    copy.setRawPredictionCol("");
    copy.setProbabilityCol("");
    Dataset<Row> predictions = copy.transform(dataset);
    return new EFCPClassificationSummary(predictions, copy.getPredictionCol(), getLabelCol(), weights);
  }

  /** A fresh efcp-core model with this model's architecture (its parameters are {@link #scorerParameters()}). */
  protected abstract DifferentiableModel newScorer();

  /** θ in the layout of {@link #newScorer()}. */
  protected abstract double[] scorerParameters();

  /**
   * Raw scores of one row through the efcp-core model (the same code that trained it).
   *
   * @throws IllegalArgumentException "featuresCol ...: ..." for a null row (Spark's transform passes the column's
   *     nulls in), a vector of another size or a value that is not finite (NaN would score as class 0 silently)
   */
  @Override
  public Vector predictRaw(Vector features) {
    if (features == null) {
      throw featuresError("null in a row (every row to score needs a vector)");
    }
    if (features.size() != numFeatures()) {
      throw featuresError("vector of size " + features.size() + ", the model expects " + numFeatures());
    }
    if (scorer == null) {
      synchronized (this) {
        if (scorer == null) {
          scorer = ThreadLocal.withInitial(this::newScorer);
        }
      }
    }
    double[] values = features.toArray();
    for (int j = 0; j < values.length; j++) {
      if (!Double.isFinite(values[j])) {
        throw featuresError("value " + values[j] + " at index " + j + " (features must be finite)");
      }
    }
    double[] out = new double[numClasses()];
    scorer.get().predictRaw(new DenseBlock(1, numFeatures(), values, new double[1]),
        scorerParameters(), out);
    return Vectors.dense(out);
  }

  /** The error for a row {@link #predictRaw} cannot score, named by the features column. */
  private IllegalArgumentException featuresError(String problem) {
    return new IllegalArgumentException("featuresCol '" + getFeaturesCol() + "': " + problem);
  }

  /** Replaces the logits in a dense {@code raw} vector by their softmax (shifted by the maximum: no overflow). */
  protected static Vector softmaxInPlace(Vector raw) {
    double[] v = ((org.apache.spark.ml.linalg.DenseVector) raw).values();
    double max = Double.NEGATIVE_INFINITY;
    for (double x : v) {
      max = Math.max(max, x);
    }
    double sum = 0;
    for (int c = 0; c < v.length; c++) {
      v[c] = Math.exp(v[c] - max);
      sum += v[c];
    }
    for (int c = 0; c < v.length; c++) {
      v[c] /= sum;
    }
    return raw;
  }

  // javac sees findSummaryModel() twice (ProbabilisticClassificationModel and ClassificationModel).
  @SuppressWarnings({"rawtypes", "unchecked"})
  @Override
  public scala.Tuple3 findSummaryModel() {
    return super.findSummaryModel();
  }
}
