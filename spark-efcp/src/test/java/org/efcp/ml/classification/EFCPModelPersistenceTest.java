package org.efcp.ml.classification;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import org.apache.spark.ml.linalg.Matrix;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.efcp.ml.TestData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Saved EFCP estimators and models come back identical: models keep uid, learned values and params and predict
 * bit-identically; estimators keep every param; the readers refuse data of an unknown format version and paths
 * that hold another kind of model, with messages that say so.
 */
class EFCPModelPersistenceTest {
  private static SparkSession spark;
  private static Dataset<Row> threeClasses;
  private static Dataset<Row> twoClasses;
  private static EFCPLogisticRegressionModel multinomial;
  private static EFCPLogisticRegressionModel binomial;
  private static EFCPMultilayerPerceptronClassificationModel perceptron;

  @TempDir
  Path dir;

  @BeforeAll
  static void fitModels() {
    spark = TestData.session("local[2]", "EFCPModelPersistenceTest");
    threeClasses = gaussianClasses(600, 4, 3, 5).cache();
    twoClasses = gaussianClasses(600, 4, 2, 6).cache();
    multinomial = new EFCPLogisticRegression().setNumEpochs(3).setBatchSize(200).fit(threeClasses);
    // d = 5 parameters: the default density 0.1 would keep no coordinate.
    binomial = new EFCPLogisticRegression().setDensity(0.4).setNumEpochs(3).setBatchSize(200).fit(twoClasses);
    perceptron = new EFCPMultilayerPerceptronClassifier().setLayers(new int[] {4, 6, 3}).setNumEpochs(3)
        .setBatchSize(200).fit(threeClasses);
  }

  @AfterAll
  static void stopSpark() {
    if (spark != null) {
      spark.stop();
    }
  }

  /** Rows (label, features) around {@code classes} random means, 1 standard deviation apart per feature. */
  private static Dataset<Row> gaussianClasses(int n, int features, int classes, long seed) {
    Random rnd = new Random(seed);
    double[][] means = new double[classes][features];
    for (double[] m : means) {
      for (int j = 0; j < features; j++) {
        m[j] = 3 * rnd.nextGaussian();
      }
    }
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int y = rnd.nextInt(classes);
      double[] x = new double[features];
      for (int j = 0; j < features; j++) {
        x[j] = means[y][j] + rnd.nextGaussian();
      }
      rows.add(RowFactory.create((double) y, Vectors.dense(x)));
    }
    StructType schema = new StructType().add("label", DataTypes.DoubleType).add("features", new VectorUDT());
    return spark.createDataFrame(rows, schema);
  }

  private String pathFor(String name) {
    return dir.resolve(name).toString();
  }

  @Test
  void multinomialLogisticRegressionComesBackWithItsCoefficientsParamsAndPredictions() throws IOException {
    EFCPLogisticRegressionModel model = multinomial.copy(org.apache.spark.ml.param.ParamMap.empty())
        .setProbabilityCol("prob").setThresholds(new double[] {0.5, 0.2, 0.3});
    String path = pathFor("lr3");
    model.write().save(path);

    EFCPLogisticRegressionModel loaded = EFCPLogisticRegressionModel.load(path);

    assertEquals(model.uid(), loaded.uid());
    assertTrue(loaded.isMultinomial());
    assertEquals(3, loaded.numClasses());
    assertEquals(4, loaded.numFeatures());
    assertSameMatrix(model.coefficientMatrix(), loaded.coefficientMatrix());
    assertArrayEquals(model.interceptVector().toArray(), loaded.interceptVector().toArray(), 0.0);
    assertSameParams(model, loaded);
    assertFalse(loaded.hasSummary(), "summaries are not saved");
    assertSamePredictions(model.transform(threeClasses), loaded.transform(threeClasses), "prob");
  }

  @Test
  void binomialLogisticRegressionComesBackWithItsCoefficientsParamsAndPredictions() throws IOException {
    String path = pathFor("lr2");
    binomial.write().save(path);

    EFCPLogisticRegressionModel loaded = EFCPLogisticRegressionModel.load(path);

    assertFalse(loaded.isMultinomial());
    assertEquals(2, loaded.numClasses());
    assertArrayEquals(binomial.coefficients().toArray(), loaded.coefficients().toArray(), 0.0);
    assertEquals(binomial.intercept(), loaded.intercept(), 0.0);
    assertSameMatrix(binomial.coefficientMatrix(), loaded.coefficientMatrix());
    assertSameParams(binomial, loaded);
    assertSamePredictions(binomial.transform(twoClasses), loaded.transform(twoClasses), "probability");
  }

  @Test
  void perceptronComesBackWithItsLayersWeightsParamsAndPredictions() throws IOException {
    EFCPMultilayerPerceptronClassificationModel model = perceptron.copy(
        org.apache.spark.ml.param.ParamMap.empty()).setWeightCol("w").setRawPredictionCol("raw");
    String path = pathFor("mlp");
    model.write().save(path);

    EFCPMultilayerPerceptronClassificationModel loaded = EFCPMultilayerPerceptronClassificationModel.load(path);

    assertEquals(model.uid(), loaded.uid());
    assertArrayEquals(new int[] {4, 6, 3}, loaded.layers());
    assertEquals("relu", loaded.activation());
    assertArrayEquals(model.weights().toArray(), loaded.weights().toArray(), 0.0);
    assertSameParams(model, loaded);
    assertSamePredictions(model.transform(threeClasses), loaded.transform(threeClasses), "probability");
  }

  @Test
  void dataIsOneParquetRowWithTheDocumentedColumnsAndFormatVersionOne() throws IOException {
    String lr = pathFor("lrData");
    String mlp = pathFor("mlpData");
    multinomial.write().save(lr);
    perceptron.write().save(mlp);

    Dataset<Row> lrData = spark.read().parquet(lr + "/data");
    Dataset<Row> mlpData = spark.read().parquet(mlp + "/data");

    assertArrayEquals(new String[] {"numClasses", "numFeatures", "isMultinomial", "coefficientMatrix",
        "interceptVector", "formatVersion"}, lrData.columns());
    assertArrayEquals(new String[] {"layers", "activation", "weights", "formatVersion"}, mlpData.columns());
    assertEquals(1, lrData.count());
    assertEquals(1, mlpData.count());
    assertEquals(1, lrData.first().<Integer>getAs("formatVersion"));
    assertEquals(Arrays.asList(4, 6, 3), mlpData.first().getList(0));
  }

  @Test
  void modelsSurviveTheLocalFileRoundTripSparkConnectUsesToOffloadCachedModels() throws IOException {
    String lr = pathFor("lrLocal");
    String mlp = pathFor("mlpLocal");
    multinomial.write().saveToLocal(lr);
    perceptron.write().saveToLocal(mlp);

    EFCPLogisticRegressionModel lrLoaded = EFCPLogisticRegressionModel.read().loadFromLocal(lr);
    EFCPMultilayerPerceptronClassificationModel mlpLoaded =
        EFCPMultilayerPerceptronClassificationModel.read().loadFromLocal(mlp);

    assertSameMatrix(multinomial.coefficientMatrix(), lrLoaded.coefficientMatrix());
    assertArrayEquals(perceptron.weights().toArray(), mlpLoaded.weights().toArray(), 0.0);
    assertSameParams(multinomial, lrLoaded);
    assertSameParams(perceptron, mlpLoaded);
  }

  @Test
  void saveRefusesAnExistingPathUnlessOverwriteIsAsked() throws IOException {
    String path = pathFor("twice");
    multinomial.write().save(path);

    assertThrows(IOException.class, () -> binomial.write().save(path));
    binomial.write().overwrite().save(path);

    assertFalse(EFCPLogisticRegressionModel.load(path).isMultinomial(), "the overwritten model is the new one");
  }

  @Test
  void estimatorsKeepEveryParamThroughSaveAndLoad() throws IOException {
    EFCPLogisticRegression lr = withEverySharedParam(new EFCPLogisticRegression())
        .setThresholds(new double[] {0.3, 0.3, 0.4})
        .setFamily("multinomial").setFitIntercept(false).setStandardization(false);
    EFCPMultilayerPerceptronClassifier mlp = withEverySharedParam(new EFCPMultilayerPerceptronClassifier())
        .setThresholds(new double[] {0.2, 0.8})
        .setLayers(new int[] {4, 5, 2}).setActivation("tanh")
        .setInitialWeights(Vectors.dense(new double[] {0.5, -1.5, 2.25, 1e-300, -0.0}));
    for (Params estimator : List.<Params>of(lr, mlp)) {
      for (Param<?> p : estimator.params()) {
        assertTrue(estimator.isSet(p), p.name() + " is set, so the round trip covers it");
      }
    }
    lr.write().save(pathFor("lrEstimator"));
    mlp.write().save(pathFor("mlpEstimator"));

    EFCPLogisticRegression lrLoaded = EFCPLogisticRegression.load(pathFor("lrEstimator"));
    EFCPMultilayerPerceptronClassifier mlpLoaded = EFCPMultilayerPerceptronClassifier.load(pathFor("mlpEstimator"));

    assertSameParams(lr, lrLoaded);
    assertSameParams(mlp, mlpLoaded);
    assertEquals("step:0.5,0.75:0.1", lrLoaded.getLrSchedule());
    assertArrayEquals(new int[] {4, 5, 2}, mlpLoaded.getLayers());
    assertEquals(Vectors.dense(new double[] {0.5, -1.5, 2.25, 1e-300, -0.0}), mlpLoaded.getInitialWeights());
  }

  @Test
  void estimatorWithOnlyDefaultsComesBackWithTheSameDefaultsAndNothingSet() throws IOException {
    EFCPMultilayerPerceptronClassifier mlp = new EFCPMultilayerPerceptronClassifier();
    mlp.write().save(pathFor("defaults"));

    EFCPMultilayerPerceptronClassifier loaded = EFCPMultilayerPerceptronClassifier.load(pathFor("defaults"));

    assertSameParams(mlp, loaded);
    assertEquals(null, loaded.getLayers());
    assertEquals(null, loaded.getInitialWeights());
    assertEquals(mlp.getSeed(), loaded.getSeed());
  }

  @Test
  void readersRefuseAnUnknownFormatVersionNamingIt() throws IOException {
    String lr = pathFor("lrV2");
    String mlp = pathFor("mlpV2");
    multinomial.write().save(lr);
    perceptron.write().save(mlp);
    rewriteFormatVersion(lr, 2);
    rewriteFormatVersion(mlp, 2);

    IllegalArgumentException lrError =
        assertThrows(IllegalArgumentException.class, () -> EFCPLogisticRegressionModel.load(lr));
    IllegalArgumentException mlpError = assertThrows(IllegalArgumentException.class,
        () -> EFCPMultilayerPerceptronClassificationModel.load(mlp));

    for (IllegalArgumentException e : List.of(lrError, mlpError)) {
      assertTrue(e.getMessage().startsWith("formatVersion: 2 "), e.getMessage());
      assertTrue(e.getMessage().contains("reads format 1"), e.getMessage());
    }
  }

  @Test
  void loadingALogisticRegressionPathAsAPerceptronFailsNamingBothClasses() throws IOException {
    String path = pathFor("lrNotMlp");
    binomial.write().save(path);

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> EFCPMultilayerPerceptronClassificationModel.load(path));

    assertTrue(e.getMessage().startsWith("path '" + path + "': holds a "
        + EFCPLogisticRegressionModel.class.getName() + ", not a "
        + EFCPMultilayerPerceptronClassificationModel.class.getName()), e.getMessage());
  }

  /** Replaces the saved data row by the same row with another formatVersion (as a newer writer would). */
  private static void rewriteFormatVersion(String path, int version) {
    String data = path + "/data";
    Dataset<Row> changed = spark.read().parquet(data).withColumn("formatVersion", functions.lit(version));
    List<Row> rows = changed.collectAsList();
    spark.createDataFrame(rows, changed.schema()).write().mode(SaveMode.Overwrite).parquet(data);
  }

  private static <E extends EfcpClassifier<E, M>, M extends EfcpClassificationModel<M>> E withEverySharedParam(
      E e) {
    e.setFeaturesCol("feats");
    e.setLabelCol("y");
    e.setPredictionCol("pred");
    e.setRawPredictionCol("raw");
    e.setProbabilityCol("prob");
    return e.setWeightCol("w").setOptimizer("dense-ggt").setStepSize(0.37).setNumEpochs(7).setBatchSize(333)
        .setGradientWindow(9).setDensity(0.25).setRank(3).setDamping(0.02).setGgtEpsilon(2e-5).setMomentum(0.5)
        .setWeightDecay(0.01).setLrSchedule("step:0.5,0.75:0.1").setClipNorm(2.5).setTol(1e-4).setSeed(42L)
        .setAggregationDepth(3).setMetricsInterval(0).setCheckpointInterval(7).setCheckpointDir("target/ckpt")
        .setDevice("cpu").setStepEngine("jobs");
  }

  /** Same param names, and each is set/has a default/has a value alike in both. */
  private static void assertSameParams(Params expected, Params actual) {
    assertEquals(expected.params().length, actual.params().length);
    for (Param<?> p : expected.params()) {
      Param<?> q = actual.getParam(p.name());
      assertEquals(expected.isSet(p), actual.isSet(q), p.name() + " set");
      assertEquals(expected.hasDefault(p), actual.hasDefault(q), p.name() + " default");
      if (expected.isDefined(p)) {
        Object want = expected.getOrDefault(p);
        Object got = actual.getOrDefault(q);
        assertTrue(Objects.deepEquals(want, got), p.name() + ": " + want + " vs " + got);
      }
      if (expected.hasDefault(p)) {
        assertTrue(Objects.deepEquals(expected.getDefault(p).get(), actual.getDefault(q).get()),
            p.name() + " default value");
      }
    }
  }

  private static void assertSameMatrix(Matrix expected, Matrix actual) {
    assertEquals(expected.numRows(), actual.numRows());
    assertEquals(expected.numCols(), actual.numCols());
    for (int r = 0; r < expected.numRows(); r++) {
      for (int c = 0; c < expected.numCols(); c++) {
        assertEquals(expected.apply(r, c), actual.apply(r, c), 0.0, "(" + r + ", " + c + ")");
      }
    }
  }

  /** Row by row: identical predictions and probabilities, and the model is not a constant one. */
  private static void assertSamePredictions(Dataset<Row> expected, Dataset<Row> actual, String probabilityCol) {
    List<Row> want = expected.select("prediction", probabilityCol).collectAsList();
    List<Row> got = actual.select("prediction", probabilityCol).collectAsList();
    assertEquals(want.size(), got.size());
    java.util.Set<Double> predicted = new java.util.HashSet<>();
    for (int i = 0; i < want.size(); i++) {
      assertEquals(want.get(i).getDouble(0), got.get(i).getDouble(0), 0.0, "prediction of row " + i);
      assertArrayEquals(((Vector) want.get(i).get(1)).toArray(), ((Vector) got.get(i).get(1)).toArray(), 0.0,
          "probability of row " + i);
      predicted.add(got.get(i).getDouble(0));
    }
    assertTrue(predicted.size() > 1, "the model predicts more than one class, so the comparison means something");
  }
}
