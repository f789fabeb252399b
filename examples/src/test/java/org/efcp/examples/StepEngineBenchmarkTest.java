package org.efcp.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class StepEngineBenchmarkTest {

  private static String rejection(String... args) {
    return assertThrows(IllegalArgumentException.class, () -> StepEngineBenchmark.Options.parse(args)).getMessage();
  }

  @Test
  void defaultsRunEverySizeMasterVariantAndEngine() {
    StepEngineBenchmark.Options o = StepEngineBenchmark.Options.parse(new String[0]);
    assertEquals(List.of(7_850, 769_000, 5_800_000), o.dims());
    assertEquals(List.of("local", "cluster"), o.masters());
    assertEquals(List.of("zero", "real"), o.variants());
    assertEquals(List.of("jobs", "stream"), o.engines());
    assertEquals(30, o.steps());
    assertEquals(10, o.slowSteps());
    assertEquals(5, o.warmup());
    assertEquals(2, o.rounds());
    assertEquals(2, o.partitions());
    assertEquals(Path.of("target/step-engine-benchmark"), o.output());
  }

  @Test
  void subsetsKeepTheGivenOrderWithoutDuplicates() {
    StepEngineBenchmark.Options o = StepEngineBenchmark.Options.parse(new String[] {"--dims", "769000,7850",
        "--masters", "cluster", "--variants", "real, zero,real", "--engines", "Stream", "--steps", "12"});
    assertEquals(List.of(769_000, 7_850), o.dims());
    assertEquals(List.of("cluster"), o.masters());
    assertEquals(List.of("real", "zero"), o.variants());
    assertEquals(List.of("stream"), o.engines());
    assertEquals(12, o.steps());
  }

  @Test
  void unknownValuesAreRejectedNamingTheOption() {
    assertEquals("--dims: 1234 is not one of [7850, 769000, 5800000]", rejection("--dims", "1234"));
    assertEquals("--masters: 'yarn' is not one of [local, cluster]", rejection("--masters", "local,yarn"));
    assertEquals("--variants: '' is not one of [zero, real]", rejection("--variants", ""));
    assertEquals("--engines: 'auto' is not one of [jobs, stream]", rejection("--engines", "auto"));
    assertTrue(rejection("--steps", "0").startsWith("--steps: "));
    assertTrue(rejection("--bogus", "1").startsWith("--bogus: unknown option"));
  }

  @Test
  void onlyTheRealMlpGetsTheSlowStepCount() {
    StepEngineBenchmark.Options o = StepEngineBenchmark.Options.parse(new String[] {"--steps", "30",
        "--slow-steps", "10"});
    StepEngineBenchmark.Workload mlp = StepEngineBenchmark.Workload.of(5_800_000);
    StepEngineBenchmark.Workload clip = StepEngineBenchmark.Workload.of(769_000);
    assertEquals(10, o.measuredSteps(mlp, "real"));
    assertEquals(30, o.measuredSteps(mlp, "zero"));
    assertEquals(30, o.measuredSteps(clip, "real"));
  }

  @Test
  void workloadsHaveThePromisedSizesAndTheZeroVariantKeepsD() {
    assertEquals(7_850, StepEngineBenchmark.Workload.of(7_850).model().numParameters());
    assertEquals(769_000, StepEngineBenchmark.Workload.of(769_000).model().numParameters());
    StepEngineBenchmark.Workload mlp = StepEngineBenchmark.Workload.of(5_800_000);
    assertEquals(784 * 2048 + 2048 + 2048 * 2048 + 2048 + 2048 * 10 + 10, mlp.model().numParameters());
    assertEquals(256, mlp.batch());
    assertEquals(mlp.model().numParameters(), mlp.model("zero").numParameters());
  }

  @Test
  void epochsGiveEveryStepAFullBatchWithinTheDataBudget() {
    int[][] cases = {{35, 1024, 784}, {15, 256, 784}, {35, 1024, 768}, {35, 1024, 16}, {1, 1024, 768}};
    for (int[] c : cases) {
      int total = c[0];
      int epochs = StepEngineBenchmark.epochsFor(total, c[1], c[2]);
      int stepsPerEpoch = (total + epochs - 1) / epochs;
      assertTrue(epochs * stepsPerEpoch >= total, "steps for " + List.of(c[0], c[1], c[2]));
      assertTrue(epochs * stepsPerEpoch < total + epochs, "extra steps for " + List.of(c[0], c[1], c[2]));
      assertTrue((long) stepsPerEpoch * c[1] * c[2] <= 8L << 20 || stepsPerEpoch == 1,
          "rows per epoch for " + List.of(c[0], c[1], c[2]));
    }
    assertEquals(4, StepEngineBenchmark.epochsFor(35, 1024, 784));
    assertEquals(1, StepEngineBenchmark.epochsFor(35, 1024, 16));
  }

  @Test
  void reportNamesBlasLoadAndArgumentsBeforeTheTable() {
    StepEngineBenchmark.Options o = StepEngineBenchmark.Options.parse(new String[] {"--dims", "7850"});
    String report = StepEngineBenchmark.report(o, new String[] {"--dims", "7850"}, "2026-11-28T12:00:00", 1.5, 2.25,
        new StepEngineTable(), List.of("cluster: IllegalStateException: no Worker"));
    assertTrue(report.contains("- BLAS: " + StepEngineBenchmark.blasName() + "\n"), report);
    assertTrue(report.contains("- load average (1 min): 1.50 at start, 2.25 at end\n"), report);
    assertTrue(report.contains("- arguments: --dims 7850\n"), report);
    assertTrue(report.indexOf("- BLAS") < report.indexOf(StepEngineTable.HEADER), report);
    assertTrue(report.endsWith("\nerror: cluster: IllegalStateException: no Worker\n"), report);
  }

  @Test
  void csvFieldsWithCommasOrQuotesAreQuoted() {
    assertEquals("\"standalone, 2 executors\"", StepEngineBenchmark.csvField("standalone, 2 executors"));
    assertEquals("\"say \"\"hi\"\"\"", StepEngineBenchmark.csvField("say \"hi\""));
    assertEquals("local[2]", StepEngineBenchmark.csvField("local[2]"));
  }
}
