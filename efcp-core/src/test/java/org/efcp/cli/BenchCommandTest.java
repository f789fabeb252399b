package org.efcp.cli;

import static org.efcp.cli.CliFixtures.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.efcp.cli.CliFixtures.RecordingFactory;
import org.efcp.cli.CliFixtures.Result;
import org.efcp.optim.Method;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Test;

/** {@code efcp bench} options, validation and output, with a substitute stepper (u = c = g). */
class BenchCommandTest {

  private static Map<String, Object> oneJsonLine(Result r) {
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.err());
    String[] lines = r.out().split("\n");
    assertEquals(1, lines.length, r.out());
    return CliFixtures.parseFlatJson(lines[0]);
  }

  @Test
  void tinySgdBenchPrintsOneJsonLineWithTheRequiredKeys() {
    RecordingFactory f = new RecordingFactory();
    Map<String, Object> json = oneJsonLine(run(f, "bench", "--method", "sgd", "--d", "1000", "--steps", "3"));
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
    assertEquals(3, f.made.get(0).calls, "fill 0 + 3 timed steps");
  }

  @Test
  void windowMethodsFillMStepsByDefaultAndFillIsAdjustable() {
    RecordingFactory f = new RecordingFactory();
    Map<String, Object> json = oneJsonLine(run(f, "bench", "--method", "dense-mfac", "--d", "50", "--m", "6",
        "--steps", "2"));
    assertEquals(6.0, json.get("m"));
    assertEquals(8, f.made.get(0).calls, "6 fill + 2 timed steps");
    oneJsonLine(run(f, "bench", "--method", "dense-ggt", "--d", "50", "--fill", "1", "--steps", "2"));
    assertEquals(100, f.made.get(1).config.window());
    assertEquals(3, f.made.get(1).calls);
  }

  @Test
  void shapesAloneSetDAndOptionsReachTheConfiguration() {
    RecordingFactory f = new RecordingFactory();
    oneJsonLine(run(f, "bench", "--method", "lowrank-mfac", "--shapes", "3x4,5", "--rank", "2", "--m", "3",
        "--damp", "0.1", "--seed", "9", "--steps", "1"));
    var c = f.only();
    assertEquals(Method.LOWRANK_MFAC, c.method());
    assertEquals(TensorLayout.parse("3x4,5"), c.layout());
    assertEquals(17, c.dimension());
    assertEquals(2, c.rank());
    assertEquals(0.1, c.damping());
    assertEquals(9, c.seed());
  }

  @Test
  void badBenchOptionsAreRejected() {
    RecordingFactory f = new RecordingFactory();
    run(f, "bench", "--steps", "0").assertBadInput("--steps: must be >= 1");
    run(f, "bench", "--d", "0", "--method", "sgd").assertBadInput("--d: must be >= 1");
    run(f, "bench", "--d", "1e6").assertBadInput("--d: not an integer");
    run(f, "bench", "--method", "sgd", "--d", "10", "--fill", "-1").assertBadInput("--fill: must be >= 0");
    run(f, "bench", "--method", "sgd", "--d", "10", "--shapes", "2x2").assertBadInput("--shapes", "adds up to 4");
    run(f, "bench", "--method", "nope").assertBadInput("--method", "unknown 'nope'");
    run(f, "bench", "--grads", "g.npy").assertBadInput("unknown option '--grads'");
    run(f, "bench", "--method", "dense-mfac", "--m", "0").assertBadInput("--m: must be >= 1");
    run(f, "bench", "--method", "sgd", "--k", "0").assertBadInput("--k: must be > 0");
    assertEquals(0, f.made.size(), "nothing ran");
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
