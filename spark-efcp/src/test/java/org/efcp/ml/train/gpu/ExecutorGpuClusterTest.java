package org.efcp.ml.train.gpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import org.apache.spark.scheduler.TaskLocality;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.cuda.CudaProbe;
import org.efcp.cuda.DevicePreference;
import org.efcp.ml.SparkJobRecorder;
import org.efcp.ml.TestData;
import org.efcp.ml.classification.EFCPLogisticRegression;
import org.efcp.ml.classification.EFCPLogisticRegressionModel;
import org.efcp.ml.train.EfcpTrainer;
import org.efcp.ml.train.TrainingData;
import org.efcp.ml.train.TrainingPlan;
import org.efcp.model.MultinomialLogisticRegression;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPU scheduling on a real standalone cluster whose Worker offers two GPUs (a discovery script that lists "0" and
 * "1"; this machine has no CUDA): each of the two executor JVMs gets its own GPU address, every task sees it as its
 * CUDA ordinal, and a device=auto fit under both step engines, whose tasks then find no usable CUDA, computes on the
 * CPU and gives exactly the device=cpu model. The driver's release of executor device rows reaches the executors
 * where the step tasks ran.
 */
class ExecutorGpuClusterTest {
  private static final String RELEASE = "EFCP: free the fit's rows on executor GPUs";

  @TempDir
  static Path dir;
  private static TwoGpuCluster gpus;
  private static SparkSession spark;

  @BeforeAll
  static void start() throws Exception {
    assumeFalse(CudaProbe.availability().available(), "this machine has CUDA: the fallback is not what runs");
    gpus = TwoGpuCluster.start(dir, "ExecutorGpuClusterTest", Map.of());
    spark = gpus.spark;
  }

  @AfterAll
  static void stop() {
    if (gpus != null) {
      gpus.close();
    }
  }

  @Test
  void executorsGetDistinctGpuOrdinalsAndAutoFallsBackToTheCpuModelExactly() {
    Map<String, Set<String>> seen = gpus.askEachExecutor(8, o -> Integer.toString(o));
    Set<String> ordinals = new TreeSet<>();
    seen.values().forEach(ordinals::addAll);
    assertEquals(Set.of("0", "1"), ordinals, "ordinals seen by tasks: " + seen);
    assertEquals(2, seen.size(), "executors: " + seen);
    seen.forEach((executor, held) -> assertEquals(1, held.size(), "each executor keeps one GPU: " + seen));

    Dataset<Row> train = TestData.gaussianClasses(spark, 2_000, 6, 3, 1.2, 41, 42, 2);
    for (String engine : new String[] {"jobs", "stream"}) {
      EFCPLogisticRegression lr = new EFCPLogisticRegression().setOptimizer("sparse-mfac").setNumEpochs(2)
          .setBatchSize(250).setSeed(5).setStepEngine(engine);
      EFCPLogisticRegressionModel cpu = lr.setDevice("cpu").fit(train);
      EFCPLogisticRegressionModel auto = lr.setDevice("auto").fit(train);
      assertEquals("cpu", auto.summary().device(), engine + ": the driver has no CUDA");
      assertArrayEquals(TestData.parameters(cpu), TestData.parameters(auto), 0.0, engine + ": auto vs cpu");
    }
  }

  /**
   * The driver frees executor device rows with one task per cached block; this checks the placement that relies
   * on: the release tasks run process-local on exactly the executors whose step tasks (which upload the rows) ran,
   * and the GPU step count travels back from the tasks. Without a GPU no task counts a step, so the fit itself
   * runs no release job.
   */
  @Test
  void releaseTasksRunWhereTheStepTasksRanAndOnlyAfterGpuSteps() {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    ExecutorDeviceRows counted = ExecutorDeviceRows.open(spark.sparkContext());
    jsc.parallelize(List.of(1, 2, 3, 4, 5, 6), 3).foreach(x -> counted.countGpuStep());
    assertEquals(6, counted.gpuSteps(), "steps counted in the tasks reach the driver");

    try (SparkJobRecorder recorder = SparkJobRecorder.attach(spark.sparkContext());
        TrainingData data = TrainingData.prepare(TestData.gaussianClasses(spark, 2_000, 6, 3, 1.2, 41, 42, 4),
            "features", "label", "")) {
      MultinomialLogisticRegression model = new MultinomialLogisticRegression(6, 3, true);
      TrainingPlan plan = TrainingPlan.builder().numEpochs(1).batchSize(500).seed(3).device(DevicePreference.AUTO)
          .stepEngine("jobs").build();
      EfcpTrainer.train(data, model, new double[model.numParameters()],
          OptimizerConfig.builder(Method.SGD, model.layout()).build(), plan, null);
      jsc.setJobDescription("test: release");
      Set<String> reached = ExecutorDeviceRows.open(spark.sparkContext()).release(data.blocks());
      jsc.setJobDescription(null);

      List<SparkJobRecorder.Task> steps = recorder.tasks(d -> d.startsWith(SparkJobRecorder.TRAINING_PREFIX));
      List<SparkJobRecorder.Task> release = recorder.tasks("test: release"::equals);
      assertEquals(4 * 4, steps.size(), "4 steps of 4 partitions: " + steps);
      assertEquals(4, release.size(), "one release task per block: " + release);
      Set<String> stepExecutors = new TreeSet<>();
      for (SparkJobRecorder.Task t : steps) {
        assertEquals(TaskLocality.PROCESS_LOCAL(), t.locality(), "step task " + t);
        stepExecutors.add(t.executor());
      }
      Set<String> releaseExecutors = new TreeSet<>();
      for (SparkJobRecorder.Task t : release) {
        assertEquals(TaskLocality.PROCESS_LOCAL(), t.locality(), "release task " + t);
        releaseExecutors.add(t.executor());
      }
      assertEquals(stepExecutors, reached, "release reports the executors of the step tasks");
      assertEquals(stepExecutors, releaseExecutors);
      assertTrue(recorder.descriptions().stream().noneMatch(RELEASE::equals),
          "no task used a GPU, so the fit ran no release job: " + recorder.descriptions());
    }
  }
}
