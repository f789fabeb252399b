package org.efcp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Test;

/** The optimizer options of {@code replay} and {@code bench} → the {@link OptimizerConfig} for d parameters. */
class ConfigOptionsTest {

  private static OptimizerConfig config(int d, String... args) {
    return ConfigOptions.parse(CliArgs.parse("replay", args, 0, ReplayCommand.FLAGS), Method.SPARSE_MFAC).toConfig(d);
  }

  @Test
  void optionsBecomeTheOptimizerConfiguration() {
    OptimizerConfig c = config(1230, "--method", "dense-mfac", "--m", "16", "--damp", "0.003", "--eps", "0.25",
        "--rank", "2", "--shapes", "30x40,30", "--ridge", "0", "--seed", "-7", "--k", "0.5");
    assertEquals(Method.DENSE_MFAC, c.method());
    assertEquals(TensorLayout.parse("30x40,30"), c.layout());
    assertEquals(16, c.window());
    assertEquals(0.5, c.density());
    assertEquals(0.003, c.damping());
    assertEquals(0.25, c.ggtEpsilon());
    assertEquals(1e-10, c.adagradEpsilon());
    assertEquals(2, c.rank());
    assertEquals(0.0, c.ridge());
    assertEquals(-7, c.seed());
    assertEquals(1.0, c.learningRate());
    assertEquals(0.0, c.momentum());
    assertEquals(0.0, c.weightDecay());
    assertEquals(0.0, c.clipNorm());
  }

  @Test
  void absentOptionsTakeThePapersDefaults() {
    OptimizerConfig mfac = config(10, "--method", "dense-mfac");
    OptimizerConfig ggt = config(10, "--method", "dense-ggt");
    assertEquals(1024, mfac.window());
    assertEquals(100, ggt.window());
    assertEquals(0, config(10, "--method", "sgd").window());
    assertEquals(TensorLayout.flat(10), mfac.layout());
    for (OptimizerConfig c : new OptimizerConfig[] {mfac, ggt}) {
      assertEquals(0.01, c.density());
      assertEquals(1e-5, c.damping());
      assertEquals(1e-5, c.ggtEpsilon());
      assertEquals(1e-10, c.adagradEpsilon());
      assertEquals(4, c.rank());
      assertEquals(1e-6, c.ridge());
      assertEquals(0, c.seed());
    }
  }

  @Test
  void epsilonMapsToTheAdagradEpsilonForAdagradEf() {
    OptimizerConfig c = config(200, "--method", "adagrad-ef", "--eps", "0.5");
    assertEquals(0.5, c.adagradEpsilon());
    assertEquals(1e-5, c.ggtEpsilon());
    assertEquals(2, c.topK(), "1 % of 200");
    assertEquals(0.0, config(200, "--method", "adagrad-ef", "--eps", "0").adagradEpsilon(),
        "AdaGrad allows eps = 0 (paper Algorithm 5)");
  }
}
