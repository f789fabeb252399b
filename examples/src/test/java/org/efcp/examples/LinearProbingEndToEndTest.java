package org.efcp.examples;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import javax.imageio.ImageIO;

import org.apache.spark.ml.functions;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.examples.SyntheticClipFeatures.Options;
import org.efcp.ml.TestData;
import org.efcp.ml.classification.EFCPLogisticRegressionModel;
import org.efcp.ml.cluster.LocalStandaloneCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * {@code bin/linear-probing} end to end, as a user runs it: the script starts
 * {@code org.apache.spark.deploy.SparkSubmit} in a child JVM, which runs {@link LinearProbing} from an application
 * jar, on {@code local[2]} and on a real standalone cluster (Master, Worker and two executor JVMs). The data are
 * small synthetic Parquet splits (32 dims, 10 classes, 2,000 training rows with array&lt;float&gt; features and
 * integer labels, 500 test rows with ML vectors and double labels). The application jar is {@link TestAppJar}'s
 * (the shaded jar is built only after the tests).
 */
class LinearProbingEndToEndTest {

  private static final int DIM = 32;
  private static final int CLASSES = 10;
  private static final int TRAIN_ROWS = 2000;
  private static final int TEST_ROWS = 500;
  private static final int EPOCHS = 5;
  private static final int BATCH = 256;
  /** Steps of a fit: ⌈2000 / 256⌉ per epoch. */
  private static final int STEPS = EPOCHS * ((TRAIN_ROWS + BATCH - 1) / BATCH);
  private static final long RUN_TIMEOUT_SECONDS = 300;
  /**
   * JIT tier 1 and the serial GC for the driver and executor JVMs: these runs are short, and the C2 and parallel
   * GC threads would compete for the machine's two cores.
   */
  private static final String LIGHT_JVM = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC";

  private static Path dir;
  private static Path appJar;
  private static Path trainParquet;
  private static Path testParquet;
  private static Path stringFeaturesParquet;
  private static SparkSession spark;

  private record Run(int rc, List<String> stdout, List<String> stderr, double seconds) {
    String describe() {
      return "exit " + rc + " after " + Math.round(seconds) + " s\n--- stdout ---\n" + String.join("\n", stdout)
          + "\n--- stderr ---\n" + String.join("\n", stderr);
    }
  }

  @BeforeAll
  static void writeDataAndApplicationJar() throws IOException {
    Path build = Path.of("target").toAbsolutePath();
    dir = Files.createDirectories(build.resolve("linear-probing-e2e")
        .resolve(LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS"))));
    appJar = TestAppJar.build(build, dir.resolve("app.jar"));
    spark = TestData.session("local[2]", "LinearProbingEndToEndTest");
    Options opts = new Options().withDim(DIM).withRank(8).withNumClasses(CLASSES).withNoise(0.9);
    Dataset<Row> train = SyntheticClipFeatures.generate(spark, TRAIN_ROWS, 2, SyntheticClipFeatures.TRAIN_SEED, opts)
        .select(col("label").cast("int").as("label"),
            functions.vector_to_array(col("features"), "float32").as("features"));
    trainParquet = dir.resolve("train.parquet");
    train.coalesce(1).write().parquet(trainParquet.toString());
    testParquet = dir.resolve("test.parquet");
    SyntheticClipFeatures.generate(spark, TEST_ROWS, 2, SyntheticClipFeatures.TEST_SEED, opts)
        .coalesce(1).write().parquet(testParquet.toString());
    stringFeaturesParquet = dir.resolve("string-features.parquet");
    train.select(col("label"), col("features").cast("string").as("features"))
        .coalesce(1).write().parquet(stringFeaturesParquet.toString());
  }

  @AfterAll
  static void stopSpark() {
    if (spark != null) {
      spark.stop();
    }
  }

  private static List<String> jobArgs(Path output) {
    return List.of("--train", trainParquet.toString(), "--test", testParquet.toString(), "--output",
        output.toString(), "--num-epochs", Integer.toString(EPOCHS), "--batch-size", Integer.toString(BATCH),
        "--partitions", "2", "--seed", "7", "--expected-dim", Integer.toString(DIM));
  }

  @Test
  void localAndStandaloneClusterRunsWriteCompleteOutputsWithTheSameModel() throws Exception {
    Path local = dir.resolve("out-local");
    Run l = submit(List.of("--master", "local[2]"), jobArgs(local));
    assertEquals(0, l.rc(), l.describe());
    JsonNode localMetrics = assertCompleteOutput(local, l);
    assertEquals("local[2]", localMetrics.path("spark").path("master").asText());

    Path onCluster = dir.resolve("out-cluster");
    Run c;
    List<Path> executorLogs;
    try (LocalStandaloneCluster cluster = LocalStandaloneCluster.start(2)) {
      c = submit(List.of("--master", cluster.masterUrl(), "--conf", "spark.executor.cores=1",
          "--conf", "spark.cores.max=2", "--conf", "spark.executor.memory=" + LocalStandaloneCluster.EXECUTOR_MEMORY),
          jobArgs(onCluster));
      executorLogs = executorLogs(cluster.runDirectory().resolve("work"));
      assertEquals(0, c.rc(), c.describe());
      assertEquals(cluster.masterUrl(),
          new ObjectMapper().readTree(onCluster.resolve("metrics.json").toFile()).path("spark").path("master").asText());
    }
    assertCompleteOutput(onCluster, c);
    assertEquals(2, executorLogs.size(), "executor logs " + executorLogs);
    for (Path log : executorLogs) {
      assertTrue(Files.readString(log).contains("Running task"), "no task ran in the executor of " + log);
    }
    // Same data, partitioning and seed: the same model, whichever JVMs computed the gradients.
    assertArrayEquals(EFCPLogisticRegressionModel.load(local.resolve("model").toString()).coefficientMatrix().toArray(),
        EFCPLogisticRegressionModel.load(onCluster.resolve("model").toString()).coefficientMatrix().toArray(), 0.0);
  }

  @Test
  void aMissingInputPathExitsWithStatus2AndOneLineAndWritesNothing() throws Exception {
    Path out = dir.resolve("out-missing-path");
    List<String> args = new ArrayList<>(jobArgs(out));
    args.set(1, dir.resolve("no-such.parquet").toString());
    assertBadInput(submit(List.of("--master", "local[1]"), args), out,
        "LinearProbing: --train: no such file or directory: " + dir.resolve("no-such.parquet"));
  }

  @Test
  void featuresOfTheWrongTypeExitWithStatus2AndOneLineAndWriteNothing() throws Exception {
    Path out = dir.resolve("out-string-features");
    List<String> args = new ArrayList<>(jobArgs(out));
    args.set(1, stringFeaturesParquet.toString());
    assertBadInput(submit(List.of("--master", "local[1]"), args), out,
        "LinearProbing: --train: column 'features' in " + stringFeaturesParquet
            + " is string; expected array<float>, array<double> or an ML vector");
  }

  @Test
  void featuresOfTheWrongWidthExitWithStatus2AndOneLineAndWriteNothing() throws Exception {
    Path out = dir.resolve("out-wrong-width");
    List<String> args = new ArrayList<>(jobArgs(out));
    args.addAll(List.of("--expected-dim", "768"));
    assertBadInput(submit(List.of("--master", "local[1]"), args), out,
        "LinearProbing: --train: column 'features' has 32 features per row, --expected-dim is 768");
  }

  @Test
  void unknownFlagsAndOutOfRangeParamsExitWithStatus2AndOneLine() throws Exception {
    Path out = dir.resolve("out-bad-flags");
    List<String> unknown = new ArrayList<>(jobArgs(out));
    unknown.addAll(List.of("--no-such-flag", "1"));
    assertBadInput(submit(List.of(), unknown), out, "LinearProbing: --no-such-flag: unknown option");
    List<String> negative = new ArrayList<>(jobArgs(out));
    negative.addAll(List.of("--step-size", "-1"));
    assertBadInput(submit(List.of(), negative), out, "LinearProbing: --step-size: -1.0 is out of range");
  }

  /** Checks the files of a successful run against each other and against the data; returns metrics.json. */
  private static JsonNode assertCompleteOutput(Path out, Run run) throws IOException {
    String summary = run.stdout().isEmpty() ? "" : run.stdout().get(run.stdout().size() - 1);
    assertTrue(summary.startsWith("LinearProbing: test accuracy "), run.describe());
    assertNoStagingLeft(out);

    JsonNode m = new ObjectMapper().readTree(out.resolve("metrics.json").toFile());
    double accuracy = m.path("test").path("accuracy").asDouble();
    assertTrue(accuracy > 0.5, "test accuracy " + accuracy + " vs chance " + 1.0 / CLASSES);
    assertEquals(1.0 / CLASSES, m.path("test").path("chance_accuracy").asDouble(), 1e-12);
    assertEquals(CLASSES, m.path("test").path("per_class").path("recall").size());
    assertEquals(TRAIN_ROWS, m.path("data").path("train_rows").asLong());
    assertEquals(TEST_ROWS, m.path("data").path("test_rows").asLong());
    assertEquals(DIM, m.path("data").path("num_features").asInt());
    assertEquals(CLASSES, m.path("data").path("num_classes").asInt());
    assertEquals(BATCH, m.path("params").path("batchSize").asInt());
    assertEquals(EPOCHS, m.path("params").path("numEpochs").asInt());
    assertEquals("sparse-mfac", m.path("params").path("optimizer").asText());
    JsonNode fit = m.path("fit");
    assertEquals(STEPS, fit.path("iterations").asInt());
    assertEquals(STEPS, fit.path("steps").size());
    long rowsSeen = 0;
    for (JsonNode step : fit.path("steps")) {
      assertTrue(step.path("loss").isNumber() && step.path("learning_rate").isNumber(), step.toString());
      rowsSeen += step.path("rows").asLong();
    }
    assertEquals((long) EPOCHS * TRAIN_ROWS, rowsSeen);
    JsonNode objective = fit.path("objective_history");
    assertEquals(EPOCHS, objective.size());
    assertTrue(objective.get(EPOCHS - 1).asDouble() < objective.get(0).asDouble(), objective.toString());
    assertTrue(fit.path("optimizer_memory_bytes").asLong() > 0);
    assertTrue(m.path("seconds").path("total").asDouble() >= m.path("seconds").path("fit").asDouble());

    // The saved model, scored here, gives the accuracy the job reported.
    EFCPLogisticRegressionModel model = EFCPLogisticRegressionModel.load(out.resolve("model").toString());
    assertEquals(DIM, model.numFeatures());
    assertEquals(CLASSES, model.numClasses());
    Dataset<Row> scored = model.transform(spark.read().parquet(testParquet.toString()));
    long correct = scored.filter(col("prediction").equalTo(col("label"))).count();
    assertEquals(accuracy, correct / (double) TEST_ROWS, 1e-12);

    for (String png : List.of("loss.png", "accuracy.png")) {
      BufferedImage image = ImageIO.read(out.resolve(png).toFile());
      assertNotNull(image, png + " is not an image");
      assertEquals(960, image.getWidth());
      assertEquals(560, image.getHeight());
      assertTrue(pixelsOf(image, LineChart.BLUE.getRGB()) > 100, png + " has no data line");
      assertTrue(distinctColours(image) > 10, png + " looks blank");
    }
    return m;
  }

  private static void assertBadInput(Run run, Path out, String expectedStart) {
    assertEquals(LinearProbing.BAD_INPUT, run.rc(), run.describe());
    List<String> lines = run.stderr().stream().filter(s -> s.startsWith("LinearProbing: ")).toList();
    assertEquals(1, lines.size(), run.describe());
    assertTrue(lines.get(0).startsWith(expectedStart), "expected '" + expectedStart + "…'\n" + run.describe());
    assertEquals(lines.get(0), run.stderr().get(run.stderr().size() - 1), "not the last line\n" + run.describe());
    assertTrue(run.stderr().stream().noneMatch(s -> s.contains("Exception")), run.describe());
    assertFalse(Files.exists(out), out + " was created");
    assertNoStagingLeft(out);
  }

  private static void assertNoStagingLeft(Path out) {
    try (Stream<Path> siblings = Files.list(out.getParent())) {
      List<Path> left = siblings.filter(p -> p.getFileName().toString().startsWith("." + out.getFileName())).toList();
      assertTrue(left.isEmpty(), "left behind: " + left);
    } catch (IOException e) {
      fail(e);
    }
  }

  /** bin/linear-probing with the test's application jar, UI off, a 1 GB driver heap and {@link #LIGHT_JVM}. */
  private static Run submit(List<String> sparkArgs, List<String> jobArgs) throws IOException, InterruptedException {
    Path script = Path.of("..", "bin", "linear-probing").toAbsolutePath().normalize();
    List<String> command = new ArrayList<>(List.of("bash", script.toString(),
        "--conf", "spark.ui.enabled=false", "--driver-memory", "1g",
        "--conf", "spark.executor.extraJavaOptions=-XX:+IgnoreUnrecognizedVMOptions"
            + " --add-modules=jdk.incubator.vector " + LIGHT_JVM));
    command.addAll(sparkArgs);
    command.addAll(jobArgs);
    Path stdout = Files.createTempFile(dir, "stdout", ".txt");
    Path stderr = Files.createTempFile(dir, "stderr", ".txt");
    ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
        .redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
    builder.environment().put("LINEAR_PROBING_JAR", appJar.toString());
    builder.environment().put("LINEAR_PROBING_JAVA_OPTS", LIGHT_JVM);
    builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
    builder.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    long start = System.nanoTime();
    Process process = builder.start();
    process.getOutputStream().close();
    if (!process.waitFor(RUN_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
      List<ProcessHandle> children = process.descendants().toList();
      process.destroyForcibly();
      children.forEach(ProcessHandle::destroyForcibly);
      fail("bin/linear-probing did not finish within " + RUN_TIMEOUT_SECONDS + " s: " + command + "\n"
          + Files.readString(stderr));
    }
    return new Run(process.exitValue(), Files.readAllLines(stdout), Files.readAllLines(stderr),
        (System.nanoTime() - start) / 1e9);
  }

  /** The stderr files of the executors the Worker launched, {@code work/app-…/<executorId>/stderr}. */
  private static List<Path> executorLogs(Path work) throws IOException {
    if (!Files.isDirectory(work)) {
      return List.of();
    }
    try (Stream<Path> files = Files.walk(work)) {
      return files.filter(p -> p.getFileName().toString().equals("stderr")).sorted().toList();
    }
  }

  private static long pixelsOf(BufferedImage image, int rgb) {
    long n = 0;
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        if ((image.getRGB(x, y) & 0xffffff) == (rgb & 0xffffff)) {
          n++;
        }
      }
    }
    return n;
  }

  private static int distinctColours(BufferedImage image) {
    Set<Integer> colours = new HashSet<>();
    for (int y = 0; y < image.getHeight(); y += 2) {
      for (int x = 0; x < image.getWidth(); x += 2) {
        colours.add(image.getRGB(x, y));
      }
    }
    return colours.size();
  }
}
