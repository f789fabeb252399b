package org.efcp.ml.train.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Predicate;

import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuUsage;
import org.efcp.ml.SparkJobRecorder;
import org.efcp.ml.TestData;
import org.efcp.ml.classification.EFCPLogisticRegression;
import org.efcp.ml.classification.EFCPLogisticRegressionModel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * device=gpu on a real standalone cluster whose Worker offers two GPUs, one per executor JVM (ordinals 0 and 1):
 * every partition gradient is computed on the executors' GPUs over rows kept there, the driver's optimizer runs on
 * the driver's GPU, the release job frees the rows on exactly the executors whose step tasks ran, after which those
 * executors hold nothing on their GPUs ({@link GpuContext#usage()}), and the model is the device=cpu model up to float
 * rounding. It needs a CUDA driver with two devices in every executor; in the normal
 * build that is the emulated driver (the gpu-emulated Surefire run puts it on LD_LIBRARY_PATH, which the Worker and
 * its executors inherit, and the executors ask it for two devices).
 */
@Tag("gpu")
class ExecutorGpuFitClusterTest {
  private static final String RELEASE = "EFCP: free the fit's rows on executor GPUs";
  /** The jobs engine's step jobs and the stream engine's long-lived tasks. */
  private static final Predicate<String> STEPS =
      d -> d.startsWith(SparkJobRecorder.TRAINING_PREFIX) || d.startsWith("EFCP stream engine");

  @TempDir
  static Path dir;
  private static TwoGpuCluster gpus;
  private static SparkSession spark;

  @BeforeAll
  static void start() throws Exception {
    gpus = TwoGpuCluster.start(dir, "ExecutorGpuFitClusterTest",
        Map.of("spark.executorEnv.EFCP_EMULATED_GPUS", "2"));
    spark = gpus.spark;
  }

  @AfterAll
  static void stop() {
    if (gpus != null) {
      gpus.close();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"jobs", "stream"})
  void executorGpusComputeTheGradientsAndTheModelIsTheCpuModel(String engine) {
    Dataset<Row> train = TestData.gaussianClasses(spark, 2_000, 6, 3, 1.2, 41, 42, 2);
    EFCPLogisticRegression lr = new EFCPLogisticRegression().setOptimizer("sparse-mfac").setNumEpochs(2)
        .setBatchSize(250).setSeed(5).setStepEngine(engine);
    EFCPLogisticRegressionModel cpu = lr.setDevice("cpu").fit(train);
    EFCPLogisticRegressionModel gpu;
    try (SparkJobRecorder recorder = SparkJobRecorder.attach(spark.sparkContext())) {
      gpu = lr.setDevice("gpu").fit(train);
      Set<String> stepExecutors = new TreeSet<>();
      for (SparkJobRecorder.Task t : recorder.tasks(STEPS)) {
        stepExecutors.add(t.executor());
      }
      Set<String> releaseExecutors = new TreeSet<>();
      for (SparkJobRecorder.Task t : recorder.tasks(RELEASE::equals)) {
        releaseExecutors.add(t.executor());
      }
      assertEquals(2, stepExecutors.size(), engine + ": both executors computed steps: " + stepExecutors);
      assertEquals(stepExecutors, releaseExecutors, engine + ": the GPU rows are freed where the steps ran");
      Map<String, Set<String>> held = gpus.askEachExecutor(12, o -> GpuContext.open(o).usage().toString());
      assertEquals(stepExecutors, held.keySet(), engine + ": every executor was asked");
      held.forEach((executor, usage) -> assertEquals(Set.of(new GpuUsage(0, 0, 0, 0).toString()), usage,
          engine + ": what executor " + executor + " still holds on its GPU after the fit"));
    }
    assertEquals("gpu", gpu.summary().device());
    TestData.assertCloseRelative(engine + " on executor GPUs (gpu vs cpu)", TestData.parameters(cpu),
        TestData.parameters(gpu), 1e-4);
  }
}
