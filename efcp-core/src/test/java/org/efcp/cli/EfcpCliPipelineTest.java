package org.efcp.cli;

import static org.efcp.cli.CliFixtures.gradients;
import static org.efcp.cli.CliFixtures.readFloat64;
import static org.efcp.cli.CliFixtures.runReal;
import static org.efcp.cli.CliFixtures.writeFloat64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import org.efcp.cli.CliFixtures.RecordingFactory;
import org.efcp.cli.CliFixtures.Result;
import org.efcp.optim.DirectionPipeline;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The CLI over the real {@link DirectionPipeline} (needs the optimizer implementations): replay equals running
 * the pipeline directly, and bench reports M-FAC window timings.
 */
class EfcpCliPipelineTest {
  @TempDir Path dir;

  private static void assertBitEqual(double[] expected, double[] actual, String what) {
    assertEquals(expected.length, actual.length, what);
    for (int i = 0; i < expected.length; i++) {
      assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(actual[i]), what + " [" + i + "]");
    }
  }

  @ParameterizedTest
  @EnumSource(Method.class)
  void replayEqualsRunningTheDirectionPipelineDirectly(Method method) throws Exception {
    int steps = 12;
    double[][] g = gradients(steps, 30);
    writeFloat64(dir.resolve("g.npy"), g);
    Result r = runReal("replay", "--method", method.cliName(), "--grads", dir.resolve("g.npy").toString(), "--out",
        dir.resolve("u.npy").toString(), "--dump-compressed", dir.resolve("c.npy").toString(), "--m", "4", "--k",
        "0.2", "--damp", "0.01", "--eps", "0.001", "--rank", "2", "--shapes", "4x5,10", "--ridge", "1e-6",
        "--seed", "5");
    assertEquals(0, r.code(), r.err());
    OptimizerConfig.Builder b = OptimizerConfig.builder(method, TensorLayout.parse("4x5,10")).window(4)
        .density(0.2).damping(0.01).rank(2).ridge(1e-6).seed(5);
    OptimizerConfig config = (method == Method.ADAGRAD_EF ? b.adagradEpsilon(0.001) : b.ggtEpsilon(0.001)).build();
    DirectionPipeline pipeline = DirectionPipeline.create(config);
    double[][] u = readFloat64(dir.resolve("u.npy"));
    double[][] c = readFloat64(dir.resolve("c.npy"));
    double[] expectedU = new double[30];
    double[] expectedC = new double[30];
    for (int t = 0; t < steps; t++) {
      pipeline.direction(g[t], expectedU);
      pipeline.lastCompressed().toDense(expectedC);
      assertBitEqual(expectedU, u[t], method + " u row " + t);
      assertBitEqual(expectedC, c[t], method + " c row " + t);
    }
  }

  @Test
  void sgdReplayThroughThePipelineReturnsTheGradients() throws Exception {
    double[][] g = gradients(5, 17);
    writeFloat64(dir.resolve("g.npy"), g);
    Result r = runReal("replay", "--method", "sgd", "--grads", dir.resolve("g.npy").toString(), "--out",
        dir.resolve("u.npy").toString());
    assertEquals(0, r.code(), r.err());
    double[][] u = readFloat64(dir.resolve("u.npy"));
    for (int t = 0; t < 5; t++) {
      assertBitEqual(g[t], u[t], "row " + t);
    }
  }

  @Test
  void epsilonMapsToTheAdagradEpsilonForAdagradEf() throws Exception {
    writeFloat64(dir.resolve("g.npy"), gradients(2, 200));
    RecordingFactory f = new RecordingFactory();
    for (String eps : new String[] {"0.5", "0"}) {
      Result r = CliFixtures.run(f, "replay", "--method", "adagrad-ef", "--grads", dir.resolve("g.npy").toString(),
          "--out", dir.resolve("u.npy").toString(), "--eps", eps);
      assertEquals(0, r.code(), r.err());
    }
    assertEquals(0.5, f.made.get(0).config.adagradEpsilon());
    assertEquals(1e-5, f.made.get(0).config.ggtEpsilon());
    assertEquals(0.0, f.made.get(1).config.adagradEpsilon(), "AdaGrad allows eps = 0 (paper Algorithm 5)");
    assertEquals(2, f.made.get(0).config.topK(), "1 % of 200");
  }

  @Test
  void topKCountLargerThanDIsRejected() throws Exception {
    writeFloat64(dir.resolve("g.npy"), gradients(2, 20));
    runReal("replay", "--method", "sparse-mfac", "--grads", dir.resolve("g.npy").toString(), "--out",
        dir.resolve("u.npy").toString(), "--k", "21").assertBadInput("--k");
  }

  @Test
  void benchWithoutArgumentsIsThePapersLinearProbe() {
    RecordingFactory f = new RecordingFactory() {
      @Override
      public DirectionStepper apply(OptimizerConfig config) {
        super.apply(config);
        throw new CliException("stop before the 769,000-parameter run");
      }
    };
    CliFixtures.run(f, "bench").assertBadInput("stop before");
    OptimizerConfig c = f.only();
    assertEquals(Method.SPARSE_MFAC, c.method());
    assertEquals(769_000, c.dimension());
    assertEquals(1024, c.window());
    assertEquals(7690, c.topK());
  }

  @Test
  void tinySgdBenchOverThePipeline() {
    Result r = runReal("bench", "--method", "sgd", "--d", "1000", "--steps", "3");
    assertEquals(0, r.code(), r.err());
    Map<String, Object> json = CliFixtures.parseFlatJson(r.out().trim());
    assertEquals("sgd", json.get("method"));
    assertTrue((Double) json.get("median_step_ms") >= 0);
  }

  @Test
  void mfacBenchReportsWindowUpdateAndFullRefactorTimes() {
    Result r = runReal("bench", "--method", "sparse-mfac", "--d", "2000", "--m", "8", "--k", "0.05", "--steps",
        "3");
    assertEquals(0, r.code(), r.err());
    Map<String, Object> json = CliFixtures.parseFlatJson(r.out().trim());
    assertEquals(8.0, json.get("m"));
    assertEquals(100.0, json.get("k"));
    assertTrue((Double) json.get("window_update_ms") >= 0, json.toString());
    assertTrue((Double) json.get("full_refactor_ms") >= 0, json.toString());
    assertTrue((Double) json.get("state_bytes") > 0, json.toString());
  }
}
