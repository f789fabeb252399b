package org.efcp.cli;

import static org.efcp.cli.CliFixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.efcp.cli.CliFixtures.Result;
import org.efcp.optim.DirectionPipeline;
import org.efcp.optim.Method;
import org.efcp.optim.MfacPreconditioner;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Test;

/** {@code efcp bench} options, validation and output, over real pipelines of small dimension. */
class BenchCommandTest {

  private static Map<String, Object> oneJsonLine(Result r) {
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.err());
    String[] lines = r.out().split("\n");
    assertEquals(1, lines.length, r.out());
    return CliFixtures.parseFlatJson(lines[0]);
  }

  /** {@code efcp bench} with {@code options}. */
  private static Result bench(String... options) {
    String[] args = new String[options.length + 1];
    args[0] = "bench";
    System.arraycopy(options, 0, args, 1, options.length);
    return run(args);
  }

  private static void assertRejected(Result r, String... fragments) {
    r.assertBadInput(fragments);
    assertEquals("", r.out(), "no JSON line");
  }

  /** The benchmark {@code efcp bench} with {@code options} would run. */
  private static BenchCommand.Plan plan(String... options) {
    return BenchCommand.plan(CliArgs.parse("bench", options, 0, BenchCommand.FLAGS));
  }

  /** Runs {@code plan} on a fresh pipeline and returns how many gradients entered its M-FAC window. */
  private static long mfacInserts(BenchCommand.Plan plan) {
    DirectionPipeline pipeline = DirectionPipeline.create(plan.config());
    BenchCommand.measure(plan, pipeline);
    return ((MfacPreconditioner) pipeline.preconditioner()).window().insertCount();
  }

  @Test
  void tinySgdBenchPrintsOneJsonLineWithTheRequiredKeys() {
    Map<String, Object> json = oneJsonLine(bench("--method", "sgd", "--d", "1000", "--steps", "3"));
    for (String key : new String[] {"method", "d", "m", "k", "median_step_ms", "p90_step_ms", "state_bytes", "blas"}) {
      assertTrue(json.containsKey(key), key);
    }
    assertEquals("sgd", json.get("method"));
    assertEquals(1000.0, json.get("d"));
    assertNull(json.get("m"), "no window");
    assertNull(json.get("k"), "no Top-k");
    assertEquals(0.0, json.get("fill"));
    assertEquals(3.0, json.get("steps"));
    double median = (Double) json.get("median_step_ms");
    double p90 = (Double) json.get("p90_step_ms");
    assertTrue(median >= 0 && p90 >= median, json.toString());
    assertEquals(0.0, json.get("state_bytes"));
    assertFalse(((String) json.get("blas")).isEmpty());
    assertFalse(json.containsKey("window_update_ms"), "only M-FAC reports window timings");
  }

  @Test
  void mfacBenchReportsWindowUpdateAndFullRefactorTimes() {
    Map<String, Object> json = oneJsonLine(bench("--method", "sparse-mfac", "--d", "2000", "--m", "8",
        "--k", "0.05", "--steps", "3"));
    assertEquals(8.0, json.get("m"));
    assertEquals(100.0, json.get("k"));
    assertEquals(8.0, json.get("fill"));
    assertTrue((Double) json.get("window_update_ms") >= 0, json.toString());
    assertTrue((Double) json.get("full_refactor_ms") >= 0, json.toString());
    assertTrue((Double) json.get("state_bytes") > 0, json.toString());
    assertTrue((Double) json.get("state_export_ms") >= 0, json.toString());
    assertTrue((Double) json.get("state_import_ms") >= 0, json.toString());
  }

  @Test
  void windowMethodsFillMStepsByDefaultAndFillIsAdjustable() {
    BenchCommand.Plan byDefault = plan("--method", "dense-mfac", "--d", "50", "--m", "6", "--steps", "2");
    assertEquals(6, byDefault.fill());
    assertEquals(8, mfacInserts(byDefault), "6 fill + 2 timed steps");
    assertEquals(3, mfacInserts(plan("--method", "dense-mfac", "--d", "50", "--m", "10", "--fill", "1",
        "--steps", "2")), "1 fill + 2 timed steps");
    Map<String, Object> ggt = oneJsonLine(bench("--method", "dense-ggt", "--d", "50", "--fill", "1",
        "--steps", "2"));
    assertEquals(100.0, ggt.get("m"));
    assertEquals(1.0, ggt.get("fill"));
    assertEquals(2.0, ggt.get("steps"));
  }

  @Test
  void shapesAloneSetDAndOptionsReachTheConfiguration() {
    String[] options = {"--method", "lowrank-mfac", "--shapes", "3x4,5", "--rank", "2", "--m", "3", "--damp", "0.1",
        "--seed", "9", "--steps", "1"};
    OptimizerConfig c = plan(options).config();
    assertEquals(Method.LOWRANK_MFAC, c.method());
    assertEquals(TensorLayout.parse("3x4,5"), c.layout());
    assertEquals(17, c.dimension());
    assertEquals(2, c.rank());
    assertEquals(0.1, c.damping());
    assertEquals(9, c.seed());
    Map<String, Object> json = oneJsonLine(bench(options));
    assertEquals(17.0, json.get("d"));
    assertEquals(3.0, json.get("m"));
  }

  @Test
  void benchWithoutArgumentsIsThePapersLinearProbe() {
    BenchCommand.Plan p = plan();
    OptimizerConfig c = p.config();
    assertEquals(Method.SPARSE_MFAC, c.method());
    assertEquals(769_000, c.dimension());
    assertEquals(1024, c.window());
    assertEquals(7690, c.topK());
    assertEquals(1024, p.fill());
    assertEquals(50, p.steps());
  }

  @Test
  void badBenchOptionsAreRejectedBeforeAnythingRuns() {
    assertRejected(bench("--steps", "0"), "--steps: must be >= 1");
    assertRejected(bench("--d", "0", "--method", "sgd"), "--d: must be >= 1");
    assertRejected(bench("--d", "1e6"), "--d: not an integer");
    assertRejected(bench("--method", "sgd", "--d", "10", "--fill", "-1"), "--fill: must be >= 0");
    assertRejected(bench("--method", "sgd", "--d", "10", "--shapes", "2x2"), "--shapes", "adds up to 4");
    assertRejected(bench("--method", "nope"), "--method", "unknown 'nope'");
    assertRejected(bench("--grads", "g.npy"), "unknown option '--grads'");
    assertRejected(bench("--method", "dense-mfac", "--m", "0"), "--m: must be >= 1");
    assertRejected(bench("--method", "sgd", "--k", "0"), "--k: must be > 0");
  }

  @Test
  void medianAndNearestRankPercentile() {
    assertEquals(2.0, BenchCommand.median(new long[] {3, 1, 2}));
    assertEquals(2.5, BenchCommand.median(new long[] {4, 1, 3, 2}));
    assertEquals(9.0, BenchCommand.percentile(new long[] {10, 9, 8, 7, 6, 5, 4, 3, 2, 1}, 0.9));
    assertEquals(3.0, BenchCommand.percentile(new long[] {1, 2, 3}, 0.9));
    assertEquals(7.0, BenchCommand.percentile(new long[] {7}, 0.9));
  }
}
