package org.efcp.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.apache.spark.sql.SparkSession;
import org.efcp.ml.TestData;
import org.efcp.ml.classification.EFCPLogisticRegression;
import org.junit.jupiter.api.Test;

class MnistTimeToAccuracyTest {

  private static AccuracyLadder.Fit fit(String budget, double seconds, double accuracy) {
    return new AccuracyLadder.Fit("M", "s", budget, 7, seconds, accuracy);
  }

  @Test
  void theLadderStopsAtTheFirstFitReachingTheTargetAndTimesOnlyThatFit() {
    Map<Integer, Double> accuracy = Map.of(5, 0.80, 10, 0.91, 15, 0.925, 20, 0.93, 25, 0.90);
    List<Integer> fitted = new ArrayList<>();
    AccuracyLadder ladder = AccuracyLadder.climb("L", List.of(5, 10, 15, 20, 25), 0.924, k -> {
      fitted.add(k);
      return fit("k" + k, k * 1.5, accuracy.get(k));
    });
    assertEquals(List.of(5, 10, 15), fitted);
    assertEquals(3, ladder.fits().size());
    AccuracyLadder.Fit first = ladder.firstReaching().orElseThrow();
    assertEquals("k15", first.budget());
    assertEquals(22.5, first.fitSeconds(), 0.0);
    assertFalse(ladder.reached(ladder.fits().get(1)));
    // Exactly the target counts as reaching it.
    assertEquals("k10", AccuracyLadder.climb("L", List.of(5, 10, 15), 0.91, k -> fit("k" + k, k, accuracy.get(k)))
        .firstReaching().orElseThrow().budget());
  }

  @Test
  void aLadderThatNeverReachesTheTargetFitsEveryRungAndHasNoTime() {
    AccuracyLadder ladder = AccuracyLadder.climb("L", List.of(1, 2, 3), 0.99, k -> fit("e" + k, k, 0.5 + k / 10.0));
    assertEquals(3, ladder.fits().size());
    assertTrue(ladder.firstReaching().isEmpty());
    assertThrows(IllegalArgumentException.class, () -> AccuracyLadder.climb("L", List.of(), 0.5, k -> null));
  }

  @Test
  void theReportListsTheTargetFitEveryRungAndTheRatioToTheReference() throws IOException {
    AccuracyLadder.Fit target = new AccuracyLadder.Fit("MLlib L-BFGS", "defaults", "maxIter 100 (target)", 100,
        127.46, 0.9238);
    AccuracyLadder mllib = new AccuracyLadder("MLlib", 0.9238, List.of(
        new AccuracyLadder.Fit("MLlib L-BFGS", "defaults", "maxIter 20", 20, 30.04, 0.9201),
        new AccuracyLadder.Fit("MLlib L-BFGS", "defaults", "maxIter 25", 25, 40.0, 0.9240)));
    AccuracyLadder efcp = new AccuracyLadder("EFCP", 0.9238, List.of(
        new AccuracyLadder.Fit("EFCP sparse-mfac", "batch 1024", "1 epoch", 59, 4.0, 0.9100),
        new AccuracyLadder.Fit("EFCP sparse-mfac", "batch 1024", "2 epochs", 118, 9.0, 0.9250)));
    AccuracyLadder never = new AccuracyLadder("EFCP (jobs)", 0.9238, List.of(
        new AccuracyLadder.Fit("EFCP sparse-mfac", "batch 1024", "1 epoch", 59, 6.0, 0.9)));
    Map<String, String> context = new LinkedHashMap<>();
    context.put("date", "2026-11-28T12:00:00Z");
    context.put("BLAS", "dev.ludovic.netlib.blas.JNIBLAS");
    TimeToAccuracyReport report = new TimeToAccuracyReport("T", context, "test accuracy", target,
        List.of(mllib, efcp, never));
    assertEquals(0.225, report.ratio(efcp).orElseThrow(), 1e-12);
    assertEquals(Optional.empty(), report.ratio(never));
    assertEquals(List.of(
        "# T",
        "",
        "- date: 2026-11-28T12:00:00Z",
        "- BLAS: dev.ludovic.netlib.blas.JNIBLAS",
        "- target: test accuracy 0.9238, that of the MLlib L-BFGS fit with maxIter 100 (target)",
        "",
        "| method | setting | budget | iterations | fit (s) | test accuracy | reached target? |",
        "|---|---|---|---|---|---|---|",
        "| MLlib L-BFGS | defaults | maxIter 100 (target) | 100 | 127.5 | 0.9238 | sets the target |",
        "| MLlib L-BFGS | defaults | maxIter 20 | 20 | 30.0 | 0.9201 | no |",
        "| MLlib L-BFGS | defaults | maxIter 25 | 25 | 40.0 | 0.9240 | yes |",
        "| EFCP sparse-mfac | batch 1024 | 1 epoch | 59 | 4.0 | 0.9100 | no |",
        "| EFCP sparse-mfac | batch 1024 | 2 epochs | 118 | 9.0 | 0.9250 | yes |",
        "| EFCP sparse-mfac | batch 1024 | 1 epoch | 59 | 6.0 | 0.9000 | no |",
        "",
        "Time to target (wall time of the first fit that reached it):",
        "",
        "- MLlib: 40.0 s (maxIter 25)",
        "- EFCP: 9.0 s (2 epochs), 0.23 × MLlib",
        "- EFCP (jobs): not reached (last rung: 1 epoch)"), report.markdown().lines().toList());
    Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "time-to-accuracy");
    assertEquals(report.markdown(), Files.readString(report.write(dir.resolve("out"))));
  }

  @Test
  void aGivenTargetIsReportedAsGiven() {
    AccuracyLadder.Fit target = fit("maxIter 1 (target)", 1, 0.5);
    AccuracyLadder ladder = new AccuracyLadder("MLlib", 0.9, List.of(fit("maxIter 1", 1, 0.5)));
    String md = new TimeToAccuracyReport("T", Map.of(), "validation accuracy", target, List.of(ladder)).markdown();
    assertTrue(md.contains("- target: validation accuracy 0.9000, given (--target)\n"), md);
    assertTrue(md.contains("| M | s | maxIter 1 (target) | 7 | 1.0 | 0.5000 | no |\n"), md);
    assertTrue(md.contains("- MLlib: not reached (last rung: maxIter 1)\n"), md);
  }

  @Test
  void defaultsAreTheTunedEfcpSettingOnAllOfMnist() {
    MnistTimeToAccuracy.Settings s = MnistTimeToAccuracy.parse(new String[0]);
    assertEquals(Path.of("data/mnist"), s.data());
    assertEquals(0, s.train());
    assertEquals(0, s.validation());
    assertEquals("local[2]", s.master());
    assertEquals(2, s.partitions());
    assertEquals(100, s.targetIter());
    assertEquals(List.of(5, 10, 15, 20, 25, 30, 40, 50, 70, 100), s.mllibIters());
    assertEquals(Path.of("target/mnist-time-to-accuracy"), s.output());
    assertEquals(List.of("auto"), s.stepEngines());
    EFCPLogisticRegression e = s.efcpFit(3, "jobs");
    assertEquals(3, e.getNumEpochs());
    assertEquals("jobs", e.getStepEngine());
    assertEquals("sparse-mfac", e.getOptimizer());
    assertEquals(0, e.getMetricsInterval());
    // The setting tuned on the validation split, as defaults() documents it.
    assertEquals(1024, e.getBatchSize());
    assertEquals(0.05, e.getStepSize(), 0.0);
    assertEquals("cosine", e.getLrSchedule());
    assertEquals(1e-3, e.getDamping(), 0.0);
    assertEquals(32, e.getGradientWindow());
    assertEquals(0.1, e.getDensity(), 0.0);
    assertTrue(e.getStandardization());
    // The fit copies: the parsed settings keep their own epochs.
    assertEquals(10, s.efcp().getNumEpochs());
  }

  @Test
  void flagsReachTheEfcpEstimator() {
    MnistTimeToAccuracy.Settings s = MnistTimeToAccuracy.parse(new String[] {"--batch-size", "2048",
        "--step-size", "0.05", "--damping", "1e-4", "--gradient-window", "16", "--density", "0.2",
        "--lr-schedule", "linear", "--standardization", "false", "--efcp-epochs", "1,3", "--target", "0.9",
        "--step-engines", "stream, jobs"});
    EFCPLogisticRegression e = s.efcpFit(1, "auto");
    assertEquals(2048, e.getBatchSize());
    assertEquals(0.05, e.getStepSize(), 0.0);
    assertEquals(1e-4, e.getDamping(), 0.0);
    assertEquals(16, e.getGradientWindow());
    assertEquals(0.2, e.getDensity(), 0.0);
    assertEquals("linear", e.getLrSchedule());
    assertFalse(e.getStandardization());
    assertEquals(List.of(1, 3), s.efcpEpochs());
    assertEquals(List.of("stream", "jobs"), s.stepEngines());
    assertEquals(0.9, s.target(), 0.0);
    assertEquals("batch 2048, stepSize 0.05 linear, damping 1.0E-4, window 16, density 0.2, standardization off",
        s.efcpSetting());
  }

  @Test
  void badArgumentsAreReportedUnderTheirOption() {
    assertMessageStarts("--target", "--target", "1.5");
    assertMessageStarts("--mllib-iters", "--mllib-iters", "5,0");
    assertMessageStarts("--efcp-epochs", "--efcp-epochs", "x");
    assertMessageStarts("--optimizer", "--optimizer", "adam");
    assertMessageStarts("--step-size", "--step-size", "0");
    assertMessageStarts("--density", "--density", "1.5");
    assertMessageStarts("--lr-schedule", "--lr-schedule", "exp");
    assertMessageStarts("--standardization", "--standardization", "yes");
    assertMessageStarts("--validation", "--validation", "-3");
    assertMessageStarts("--step-engines", "--step-engines", "auto,spark");
  }

  @Test
  void validationHoldsOutTheLastTrainingImagesAndNeverReadsTheTestSplit() throws IOException {
    Path dir = mnistDir("holdout", 40, 10);
    Files.delete(dir.resolve(MnistIdx.TEST_IMAGES)); // a validation run must not need the test split's images
    MnistSplits v = MnistTimeToAccuracy.splits(MnistTimeToAccuracy.parse(new String[] {"--data", dir.toString(),
        "--validation", "15"}));
    MnistIdx all = MnistIdx.train(dir);
    assertEquals(25, v.train().size());
    assertEquals(15, v.test().size());
    for (int i = 0; i < 15; i++) {
      assertEquals(all.label(25 + i), v.test().label(i));
    }
    assertEquals(all.label(24), v.train().label(24));
    assertThrows(IllegalArgumentException.class, () -> MnistTimeToAccuracy.splits(MnistTimeToAccuracy.parse(
        new String[] {"--data", dir.toString(), "--validation", "40"})));
  }

  @Test
  void aRunOnAFewHundredImagesReportsBothLaddersUpToTheirFirstFitReachingTheTarget() throws IOException {
    Path dir = mnistDir("run", 300, 100);
    Path out = dir.resolve("out");
    MnistTimeToAccuracy.Settings s = MnistTimeToAccuracy.parse(new String[] {"--data", dir.toString(),
        "--target-iter", "8", "--target", "0.94", "--mllib-iters", "1,2,4,8", "--efcp-epochs", "1,2,3,4",
        "--warmup-rows", "50",
        "--batch-size", "64", "--step-size", "0.1", "--step-engines", "auto,jobs", "--output", out.toString()});
    SparkSession spark = TestData.session("local[2]", "MnistTimeToAccuracyTest");
    TimeToAccuracyReport report;
    try {
      report = MnistTimeToAccuracy.run(spark, s, MnistTimeToAccuracy.splits(s));
    } finally {
      spark.stop();
    }
    String md = report.markdown();
    assertTrue(md.contains("300 training / 100 test images"), md);
    assertTrue(md.contains("- BLAS: dev.ludovic.netlib.blas."), md);
    assertTrue(md.contains("| MLlib L-BFGS | defaults | maxIter 8 (target) |"), md);
    assertTrue(md.contains("- target: test accuracy 0.9400, given (--target)"), md);
    // The data are separable: every ladder reaches 0.94 within its rungs (EFCP after more than one epoch) and
    // stops at its first fit at or above it.
    for (String ladder : List.of("| MLlib L-BFGS |", "stepEngine auto → stream |", "stepEngine jobs |")) {
      List<String> rows = md.lines().filter(l -> l.contains(ladder) && !l.contains("(target)")).toList();
      assertFalse(rows.isEmpty(), md);
      for (int i = 0; i < rows.size(); i++) {
        assertEquals(i == rows.size() - 1 ? "yes" : "no", lastCell(rows.get(i)), md);
      }
    }
    assertTrue(md.contains("- EFCP stepEngine=auto: "), md);
    assertTrue(md.contains("- EFCP stepEngine=jobs: "), md);
    assertFalse(md.contains("not reached"), md);
    assertTrue(md.contains("| 2 epochs |"), md);
  }

  private static String lastCell(String row) {
    String[] cells = row.split("\\|");
    return cells[cells.length - 1].trim();
  }

  /**
   * Standard-named IDX files of {@code train} and {@code test} 4×4 images: image i shows digit i mod 10 as one
   * bright pixel at that index over faint pixels that vary with i, so a linear model can separate them.
   */
  private static Path mnistDir(String name, int train, int test) throws IOException {
    Path dir = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "mnist-tta-" + name);
    writeSplit(dir, MnistIdx.TRAIN_IMAGES, MnistIdx.TRAIN_LABELS, train, 0);
    writeSplit(dir, MnistIdx.TEST_IMAGES, MnistIdx.TEST_LABELS, test, 7);
    return dir;
  }

  private static void writeSplit(Path dir, String images, String labels, int n, int offset) throws IOException {
    ByteBuffer img = ByteBuffer.allocate(16 + n * 16).putInt(0x803).putInt(n).putInt(4).putInt(4);
    ByteBuffer lab = ByteBuffer.allocate(8 + n).putInt(0x801).putInt(n);
    for (int i = 0; i < n; i++) {
      int digit = (i + offset) % 10;
      for (int j = 0; j < 16; j++) {
        img.put((byte) (j == digit ? 200 + (i % 50) : (i * 7 + j * 13) % 40));
      }
      lab.put((byte) digit);
    }
    Files.write(dir.resolve(images), img.array());
    Files.write(dir.resolve(labels), lab.array());
  }

  private static void assertMessageStarts(String option, String... args) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> MnistTimeToAccuracy.parse(args));
    assertTrue(e.getMessage().startsWith(option + ": "), e.getMessage());
  }
}
