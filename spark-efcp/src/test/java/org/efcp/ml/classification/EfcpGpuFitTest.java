package org.efcp.ml.classification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.cuda.DeviceBallast;
import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuUsage;
import org.efcp.ml.Eventually;
import org.efcp.ml.TestData;
import org.efcp.ml.train.gpu.DeviceGradients;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * device=gpu end to end in a real SparkSession (local[2], so two tasks use the GPU at once): the executors' partition
 * gradients on the GPU over rows kept there across steps, the driver's optimizer on the GPU, the rows freed at the
 * end. The model must be the device=cpu model up to float rounding: both paths compute float32 products with float64
 * sums, in different orders, and the optimizer carries those differences over the fit's steps. A fit gives back every
 * device buffer, pinned buffer, stream and event it took ({@link GpuContext#usage()}), also when it fails. Where the
 * GPU has no room (a ballast leaves 64 MiB of it free), device=auto computes on the CPU instead, and device=gpu fails
 * saying so. A fit checkpointed with its optimizer on one device resumes on either. On a device host this runs on the
 * GPU; in the normal build it runs on the emulated CUDA driver (the gpu-emulated Surefire run).
 */
@Tag("gpu")
class EfcpGpuFitTest {
  private static SparkSession spark;
  private static Dataset<Row> train;

  @BeforeAll
  static void start() {
    spark = TestData.session("local[2]", "EfcpGpuFitTest");
    train = TestData.gaussianClasses(spark, 2_000, 20, 5, 1.5, 1, 2, 2).cache();
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  @ParameterizedTest(name = "{0}, {1}")
  @CsvSource({"sparse-mfac, jobs", "sparse-mfac, stream", "dense-mfac, jobs", "dense-ggt, stream", "adagrad-ef, jobs"})
  void logisticRegressionOnTheGpuIsTheCpuModel(String optimizer, String engine) {
    EFCPLogisticRegressionModel cpu = logisticRegression(optimizer, engine).setDevice("cpu").fit(train);
    GpuUsage before = GpuContext.open(0).usage();
    EFCPLogisticRegressionModel gpu = logisticRegression(optimizer, engine).setDevice("gpu").fit(train);
    assertEquals(before, GpuContext.open(0).usage(), "what the fit held on the GPU");
    assertEquals("cpu", cpu.summary().device());
    assertEquals("gpu", gpu.summary().device());
    TestData.assertCloseRelative(optimizer + " coefficients (gpu vs cpu)", cpu.coefficientMatrix().toArray(),
        gpu.coefficientMatrix().toArray(), 1e-4);
    TestData.assertCloseRelative(optimizer + " intercepts (gpu vs cpu)", cpu.interceptVector().toArray(),
        gpu.interceptVector().toArray(), 1e-4);
    double accuracy = TestData.accuracy(gpu.transform(train));
    assertTrue(accuracy > 0.8, "GPU model accuracy " + accuracy);
  }

  @Test
  void perceptronOnTheGpuIsTheCpuModel() {
    EFCPMultilayerPerceptronClassificationModel cpu = perceptron().setDevice("cpu").fit(train);
    GpuUsage before = GpuContext.open(0).usage();
    EFCPMultilayerPerceptronClassificationModel gpu = perceptron().setDevice("gpu").fit(train);
    assertEquals(before, GpuContext.open(0).usage(), "what the fit held on the GPU");
    assertEquals("gpu", gpu.summary().device());
    TestData.assertCloseRelative("mlp weights (gpu vs cpu)", cpu.weights().toArray(), gpu.weights().toArray(), 1e-4);
  }

  @ParameterizedTest
  @CsvSource({"jobs", "stream"})
  void aDivergingGpuFitFailsAndGivesBackEverythingItTook(String engine) {
    GpuUsage before = GpuContext.open(0).usage();
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> logisticRegression("sparse-mfac", engine).setStepSize(1e300).setDevice("gpu").fit(train));
    assertTrue(e.getMessage().startsWith("EFCP training diverged"), e.getMessage());
    assertEquals(before, GpuContext.open(0).usage(), "what the failed fit held on the GPU");
  }

  @Test
  void anOptimizerStateTooLargeForTheGpuRunsOnTheCpuUnderAutoAndIsRefusedUnderGpu() {
    // The m×m state of dense M-FAC with m = 2048 (K and its Cholesky factor, 2 · 2048² doubles) is 64 MiB.
    EFCPLogisticRegression lr = logisticRegression("dense-mfac", "jobs").setGradientWindow(2048).setNumEpochs(1);
    EFCPLogisticRegressionModel cpu = lr.setDevice("cpu").fit(train);
    GpuContext gpu = GpuContext.open(0);
    try (DeviceBuffer ballast = DeviceBallast.leaveFree(gpu, 64L << 20)) {
      GpuUsage before = gpu.usage();
      EFCPLogisticRegressionModel auto = lr.setDevice("auto").fit(train);
      assertEquals("cpu", auto.summary().device(), "the optimizer fell back to the CPU");
      TestData.assertCloseRelative("auto (GPU gradients, CPU optimizer) vs cpu", TestData.parameters(cpu),
          TestData.parameters(auto), 1e-4);
      IllegalStateException e = assertThrows(IllegalStateException.class, () -> lr.setDevice("gpu").fit(train));
      assertTrue(e.getMessage().startsWith("device: gpu: the dense-mfac optimizer state (d = 105) does not fit in "
          + "GPU 0's free memory"), e.getMessage());
      assertEquals(before, gpu.usage());
    }
  }

  @ParameterizedTest
  @CsvSource({"jobs", "stream"})
  void rowsTooLargeForTheGpuAreComputedOnTheCpuUnderAutoAndFailTheFitUnderGpu(String engine)
      throws InterruptedException {
    // Each partition's rows take 4,500 × 2,000 float32 = 36 MB on the GPU: only one of the two fits at a time.
    Dataset<Row> wide = TestData.gaussianClasses(spark, 9_000, 2_000, 2, 3.0, 3, 4, 2);
    EFCPLogisticRegression lr = logisticRegression("sparse-mfac", engine).setNumEpochs(1).setBatchSize(3_000);
    EFCPLogisticRegressionModel cpu = lr.setDevice("cpu").fit(wide);
    GpuContext gpu = GpuContext.open(0);
    try (DeviceBuffer ballast = DeviceBallast.leaveFree(gpu, 64L << 20)) {
      GpuUsage before = gpu.usage();
      long refused = DeviceGradients.refusedUploads();
      EFCPLogisticRegressionModel auto = lr.setDevice("auto").fit(wide);
      assertEquals("gpu", auto.summary().device());
      // The partition that did not fit is tried once per fit, not at each of its 3 steps (a new task each under jobs).
      assertEquals(1, DeviceGradients.refusedUploads() - refused, "uploads refused for lack of memory");
      TestData.assertCloseRelative(engine + ": auto with a partition on the CPU vs cpu", TestData.parameters(cpu),
          TestData.parameters(auto), 1e-4);
      assertEquals(before, gpu.usage(), "what the fit held on the GPU");
      Exception e = assertThrows(Exception.class, () -> lr.setDevice("gpu").fit(wide));
      assertTrue(String.valueOf(e.getMessage()).contains("device: gpu: partition "), String.valueOf(e));
      // Spark kills the aborted stage's other tasks asynchronously; the rows go when such a task ends.
      Eventually.waitUntil(Duration.ofSeconds(10), () -> gpu.usage().equals(before));
      assertEquals(before, gpu.usage(), "what the failed fit held on the GPU");
    }
  }

  @ParameterizedTest(name = "checkpointed on {0}, resumed on {1}")
  @CsvSource({"gpu, gpu", "gpu, cpu", "cpu, gpu"})
  void aFitCheckpointedOnOneDeviceResumesOnEitherWithTheModelOfAnUninterruptedFit(String first, String second,
      @TempDir Path dir) {
    EFCPLogisticRegressionModel reference = logisticRegression("sparse-mfac", "jobs").setDevice("gpu").fit(train);
    String checkpoints = dir.toString();
    GpuUsage before = GpuContext.open(0).usage();
    IllegalStateException crash = assertThrows(IllegalStateException.class,
        () -> logisticRegression("sparse-mfac", "jobs").setDevice(first).setCheckpointDir(checkpoints)
            .setCheckpointInterval(8).addListener(new CrashAfter(10)).fit(train));
    assertTrue(crash.getMessage().contains("simulated"), crash.getMessage());
    assertEquals(before, GpuContext.open(0).usage(), "what the crashed fit held on the GPU");

    EFCPLogisticRegressionModel resumed = logisticRegression("sparse-mfac", "jobs").setDevice(second)
        .setCheckpointDir(checkpoints).setCheckpointInterval(8).fit(train);
    assertEquals(before, GpuContext.open(0).usage(), "what the resumed fit held on the GPU");
    assertEquals(8, resumed.summary().resumedFromStep());
    assertEquals(second, resumed.summary().device());
    assertEquals(reference.summary().totalIterations(), resumed.summary().totalIterations());
    // The resumed optimizer rebuilds its m×m state from K, and GPU and CPU round differently: close, not equal.
    TestData.assertCloseRelative("resumed vs uninterrupted", TestData.parameters(reference),
        TestData.parameters(resumed), 1e-4);
  }

  private static EFCPLogisticRegression logisticRegression(String optimizer, String engine) {
    return new EFCPLogisticRegression().setOptimizer(optimizer).setStepEngine(engine).setNumEpochs(3)
        .setBatchSize(256).setSeed(5);
  }

  private static EFCPMultilayerPerceptronClassifier perceptron() {
    return new EFCPMultilayerPerceptronClassifier().setLayers(new int[] {20, 16, 5}).setActivation("tanh")
        .setOptimizer("sparse-mfac").setNumEpochs(3).setBatchSize(256).setSeed(5);
  }
}
