package org.efcp.ml

import org.apache.spark.sql.SparkSession
import org.efcp.model.{DenseBlock, MultinomialLogisticRegression}
import org.efcp.optim.{EfcpOptimizer, Method, OptimizerConfig}
import org.scalatest.BeforeAndAfterAll
import org.scalatest.funsuite.AnyFunSuite

import scala.util.Random

/**
 * The design's data flow on a real SparkSession, written as a Scala user would call the Java core: executors
 * compute partition gradients of the efcp-core model on dense blocks, `treeAggregate` sums them on the driver,
 * and the driver's EFCP optimizer turns them into new weights that are broadcast for the next step.
 */
class DistributedGradientSuite extends AnyFunSuite with BeforeAndAfterAll {
  import DistributedGradientSuite._

  private var spark: SparkSession = _

  override def beforeAll(): Unit = {
    spark = SparkSession.builder()
      .master("local[2]")
      .appName("DistributedGradientSuite")
      .config("spark.driver.host", "127.0.0.1")
      .config("spark.driver.bindAddress", "127.0.0.1")
      .config("spark.ui.enabled", "false")
      .getOrCreate()
  }

  override def afterAll(): Unit = if (spark != null) spark.stop()

  /** Gaussian classes around random means: (features, label) rows. */
  private def rows(n: Int, seed: Long): Seq[(Array[Double], Double)] = {
    val rnd = new Random(seed)
    val means = Array.fill(numClasses, numFeatures)(rnd.nextGaussian() * 1.5)
    Seq.fill(n) {
      val y = rnd.nextInt(numClasses)
      (Array.tabulate(numFeatures)(j => means(y)(j) + rnd.nextGaussian()), y.toDouble)
    }
  }

  test("treeAggregate of partition gradients equals the gradient of one block") {
    val data = rows(3000, 7)
    val model = new MultinomialLogisticRegression(numFeatures, numClasses, true)
    val theta = Array.tabulate(model.numParameters())(i => math.sin(i.toDouble) * 0.1)
    val blocks = spark.sparkContext.parallelize(data, 4).glom().map(p => block(p.toSeq)).cache()

    val bc = spark.sparkContext.broadcast(theta)
    val (loss, grad) = blocks.treeAggregate((0.0, new Array[Double](theta.length)))(
      (acc, b) => {
        val local = new MultinomialLogisticRegression(numFeatures, numClasses, true)
        (acc._1 + local.addLossAndGradient(b, bc.value, acc._2), acc._2)
      },
      (a, b) => { var i = 0; while (i < a._2.length) { a._2(i) += b._2(i); i += 1 }; (a._1 + b._1, a._2) },
      2)
    bc.destroy()

    val expectedGrad = new Array[Double](theta.length)
    val expectedLoss = model.addLossAndGradient(block(data), theta, expectedGrad)
    assert(math.abs(loss - expectedLoss) <= 1e-10 * math.abs(expectedLoss))
    val scale = expectedGrad.map(math.abs).max
    expectedGrad.indices.foreach(i => assert(math.abs(grad(i) - expectedGrad(i)) <= 1e-10 * scale, s"entry $i"))
    blocks.unpersist()
  }

  test("sparse M-FAC on the driver with Spark gradients trains like the same optimizer on one machine") {
    val data = rows(2000, 11)
    val model = new MultinomialLogisticRegression(numFeatures, numClasses, true)
    val d = model.numParameters()
    val config = OptimizerConfig.builder(Method.SPARSE_MFAC, model.layout())
      .window(16).density(0.2).damping(1e-3).learningRate(0.1).build()
    val blocks = spark.sparkContext.parallelize(data, 2).glom().map(p => block(p.toSeq)).cache()
    val whole = block(data)
    val total = whole.totalWeight()

    def sparkGradient(theta: Array[Double]): (Double, Array[Double]) = {
      val bc = spark.sparkContext.broadcast(theta)
      val (l, g) = blocks.treeAggregate((0.0, new Array[Double](d)))(
        (acc, b) => (acc._1 + new MultinomialLogisticRegression(numFeatures, numClasses, true)
          .addLossAndGradient(b, bc.value, acc._2), acc._2),
        (a, b) => { var i = 0; while (i < d) { a._2(i) += b._2(i); i += 1 }; (a._1 + b._1, a._2) })
      bc.destroy()
      (l / total, g.map(_ / total))
    }

    val distributed = new EfcpOptimizer(config)
    val local = new EfcpOptimizer(config)
    val thetaD = new Array[Double](d)
    val thetaL = new Array[Double](d)
    val initialLoss = sparkGradient(thetaD)._1
    for (_ <- 0 until 25) {
      distributed.step(thetaD, sparkGradient(thetaD)._2)
      val g = new Array[Double](d)
      model.addLossAndGradient(whole, thetaL, g)
      local.step(thetaL, g.map(_ / total))
    }
    val finalLoss = sparkGradient(thetaD)._1
    assert(finalLoss < 0.5 * initialLoss, s"loss $initialLoss -> $finalLoss")
    // Partition sums differ from one block's sum only in rounding; M-FAC must not amplify that.
    val scale = thetaL.map(math.abs).max
    thetaL.indices.foreach(i => assert(math.abs(thetaD(i) - thetaL(i)) <= 1e-6 * scale, s"theta($i)"))
    blocks.unpersist()
  }
}

/** Kept out of the suite so Spark closures capture no test instance. */
object DistributedGradientSuite {
  val numFeatures = 20
  val numClasses = 4

  def block(part: Seq[(Array[Double], Double)]): DenseBlock =
    DenseBlock.fromRows(numFeatures, part.map(_._1).toArray, part.map(_._2).toArray)
}
