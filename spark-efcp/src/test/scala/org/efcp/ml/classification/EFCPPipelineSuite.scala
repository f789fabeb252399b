package org.efcp.ml.classification

import java.nio.file.{Files, Path}
import java.util.Comparator

import org.apache.spark.ml.{Pipeline, PipelineModel}
import org.apache.spark.ml.evaluation.MulticlassClassificationEvaluator
import org.apache.spark.ml.feature.VectorAssembler
import org.apache.spark.ml.linalg.Vector
import org.apache.spark.ml.tuning.{CrossValidator, CrossValidatorModel, ParamGridBuilder, TrainValidationSplit}
import org.apache.spark.sql.{DataFrame, SparkSession}
import org.scalatest.BeforeAndAfterAll
import org.scalatest.funsuite.AnyFunSuite

import scala.util.Random

/**
 * The EFCP estimators as a Scala user combines them with MLlib: inside a `Pipeline` (fit, transform, save,
 * load), and tuned by `CrossValidator` / `TrainValidationSplit` over a param grid.
 */
class EFCPPipelineSuite extends AnyFunSuite with BeforeAndAfterAll {
  import EFCPPipelineSuite._

  private var spark: SparkSession = _
  private var dir: Path = _
  private var raw: DataFrame = _
  private var assembled: DataFrame = _

  override def beforeAll(): Unit = {
    spark = SparkSession.builder()
      .master("local[2]")
      .appName("EFCPPipelineSuite")
      .config("spark.driver.host", "127.0.0.1")
      .config("spark.driver.bindAddress", "127.0.0.1")
      .config("spark.ui.enabled", "false")
      .config("spark.sql.shuffle.partitions", "2")
      .getOrCreate()
    dir = Files.createTempDirectory("efcp-pipeline-suite")
    raw = spark.createDataFrame(rows(600, seed = 21)).toDF("label" +: featureCols: _*).cache()
    assembled = assembler.transform(raw).cache()
  }

  override def afterAll(): Unit = {
    if (spark != null) spark.stop()
    if (dir != null) Files.walk(dir).sorted(Comparator.reverseOrder[Path]()).forEach(p => Files.delete(p))
  }

  private def path(name: String): String = dir.resolve(name).toString

  private def accuracy(predictions: DataFrame): Double =
    new MulticlassClassificationEvaluator().setMetricName("accuracy").evaluate(predictions)

  /** (prediction, probability) per row, in row order. */
  private def predictions(df: DataFrame): Seq[(Double, Seq[Double])] =
    df.select("prediction", "probability").collect().toSeq
      .map(r => (r.getDouble(0), r.getAs[Vector](1).toArray.toSeq))

  private def lr(): EFCPLogisticRegression =
    new EFCPLogisticRegression().setNumEpochs(3).setBatchSize(200)

  private def mlp(): EFCPMultilayerPerceptronClassifier =
    new EFCPMultilayerPerceptronClassifier().setLayers(Array(4, 8, 3)).setNumEpochs(3).setBatchSize(200)

  test("a VectorAssembler + EFCPLogisticRegression pipeline predicts the same after PipelineModel save/load") {
    val model = new Pipeline().setStages(Array(assembler, lr())).fit(raw)
    val before = model.transform(raw)
    assert(accuracy(before) > 0.8, "well separated classes")

    model.write.overwrite().save(path("lrPipelineModel"))
    val loaded = PipelineModel.load(path("lrPipelineModel"))

    assert(loaded.stages.length === 2)
    assert(loaded.stages(1).isInstanceOf[EFCPLogisticRegressionModel])
    assert(loaded.stages(1).uid === model.stages(1).uid)
    assert(predictions(loaded.transform(raw)) === predictions(before))
  }

  test("an unfitted Pipeline keeps its stages and their params through save/load") {
    val pipeline = new Pipeline().setStages(Array(assembler, lr().setStepSize(0.2).setOptimizer("dense-mfac")))
    pipeline.write.save(path("lrPipeline"))

    val loaded = Pipeline.load(path("lrPipeline"))

    val stage = loaded.getStages(1).asInstanceOf[EFCPLogisticRegression]
    assert(loaded.getStages(0).asInstanceOf[VectorAssembler].getInputCols.toSeq === featureCols)
    assert(stage.getStepSize === 0.2)
    assert(stage.getOptimizer === "dense-mfac")
    assert(stage.getNumEpochs === 3)
    assert(stage.getBatchSize === 200)
  }

  test("CrossValidator over two step sizes picks an EFCPLogisticRegressionModel that survives save/load") {
    val estimator = lr()
    val grid = new ParamGridBuilder().addGrid(estimator.stepSize, Array(0.02, 0.3)).build()
    val cv = new CrossValidator()
      .setEstimator(estimator)
      .setEstimatorParamMaps(grid)
      .setEvaluator(new MulticlassClassificationEvaluator().setMetricName("accuracy"))
      .setNumFolds(2)
      .setSeed(5L)

    val cvModel = cv.fit(assembled)

    assert(cvModel.avgMetrics.length === 2)
    val best = cvModel.bestModel.asInstanceOf[EFCPLogisticRegressionModel]
    val bestStep = grid(cvModel.avgMetrics.indexOf(cvModel.avgMetrics.max)).get(estimator.stepSize).get
    assert(best.parent.asInstanceOf[EFCPLogisticRegression].getStepSize === bestStep)

    cvModel.write.save(path("cvModel"))
    val loaded = CrossValidatorModel.load(path("cvModel"))
    assert(loaded.avgMetrics.toSeq === cvModel.avgMetrics.toSeq)
    assert(predictions(loaded.bestModel.transform(assembled)) === predictions(best.transform(assembled)))
  }

  test("TrainValidationSplit over two step sizes picks an EFCPMultilayerPerceptronClassificationModel") {
    val estimator = mlp()
    val grid = new ParamGridBuilder().addGrid(estimator.stepSize, Array(0.02, 0.3)).build()
    val tvs = new TrainValidationSplit()
      .setEstimator(estimator)
      .setEstimatorParamMaps(grid)
      .setEvaluator(new MulticlassClassificationEvaluator().setMetricName("accuracy"))
      .setTrainRatio(0.75)
      .setSeed(5L)

    val tvsModel = tvs.fit(assembled)

    assert(tvsModel.validationMetrics.length === 2)
    val best = tvsModel.bestModel.asInstanceOf[EFCPMultilayerPerceptronClassificationModel]
    val bestStep = grid(tvsModel.validationMetrics.indexOf(tvsModel.validationMetrics.max))
      .get(estimator.stepSize).get
    assert(best.parent.asInstanceOf[EFCPMultilayerPerceptronClassifier].getStepSize === bestStep)
    assert(best.layers.toSeq === Seq(4, 8, 3))
  }

  test("a VectorAssembler + EFCPMultilayerPerceptronClassifier pipeline predicts the same after save/load") {
    val model = new Pipeline().setStages(Array(assembler, mlp())).fit(raw)
    val before = model.transform(raw)

    model.write.save(path("mlpPipelineModel"))
    val loaded = PipelineModel.load(path("mlpPipelineModel"))

    assert(loaded.stages(1).isInstanceOf[EFCPMultilayerPerceptronClassificationModel])
    assert(predictions(loaded.transform(raw)) === predictions(before))
    assert(predictions(before).map(_._1).distinct.size > 1, "the model is not constant")
  }
}

object EFCPPipelineSuite {
  private val featureCols = Seq("x0", "x1", "x2", "x3")

  private def assembler: VectorAssembler =
    new VectorAssembler().setInputCols(featureCols.toArray).setOutputCol("features")

  /** (label, x0..x3): three Gaussian classes around random means, 1 standard deviation per feature. */
  private def rows(n: Int, seed: Long): Seq[(Double, Double, Double, Double, Double)] = {
    val rnd = new Random(seed)
    val means = Array.fill(3, 4)(3 * rnd.nextGaussian())
    Seq.fill(n) {
      val y = rnd.nextInt(3)
      val x = Array.tabulate(4)(j => means(y)(j) + rnd.nextGaussian())
      (y.toDouble, x(0), x(1), x(2), x(3))
    }
  }
}
