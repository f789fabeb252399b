package org.efcp.cli;

import static org.efcp.cli.CliFixtures.gradients;
import static org.efcp.cli.CliFixtures.listing;
import static org.efcp.cli.CliFixtures.readFloat64;
import static org.efcp.cli.CliFixtures.run;
import static org.efcp.cli.CliFixtures.writeFloat32;
import static org.efcp.cli.CliFixtures.writeFloat64;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.efcp.cli.CliFixtures.RecordingFactory;
import org.efcp.cli.CliFixtures.Result;
import org.efcp.cli.CliFixtures.RunningSumStepper;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code efcp replay} plumbing with a substitute stepper (u = c = g, which is what the SGD pipeline computes):
 * reading float32/float64 rows, writing U and C, the configuration built from the options, atomic outputs.
 */
class ReplayCommandTest {
  @TempDir Path dir;

  private static void assertBitEqual(double[][] expected, double[][] actual) {
    assertEquals(expected.length, actual.length, "rows");
    for (int t = 0; t < expected.length; t++) {
      assertEquals(expected[t].length, actual[t].length, "cols");
      for (int i = 0; i < expected[t].length; i++) {
        assertEquals(Double.doubleToRawLongBits(expected[t][i]), Double.doubleToRawLongBits(actual[t][i]),
            "row " + t + " col " + i);
      }
    }
  }

  @Test
  void sgdReplayOfFloat64GradientsWritesThemBackBitExactly() throws Exception {
    double[][] g = gradients(9, 13);
    g[2][3] = -0.0;
    g[4][5] = Double.MIN_VALUE;
    writeFloat64(dir.resolve("g.npy"), g);
    Result r = run(new RecordingFactory(), "replay", "--method", "sgd", "--grads", dir.resolve("g.npy").toString(),
        "--out", dir.resolve("u.npy").toString());
    assertEquals(0, r.code(), r.err());
    assertEquals("", r.err());
    assertBitEqual(g, readFloat64(dir.resolve("u.npy")));
    assertEquals(List.of("g.npy", "u.npy"), listing(dir));
  }

  @Test
  void sgdReplayOfFloat32GradientsWidensThemExactly() throws Exception {
    double[][] g = gradients(5, 7);
    float[][] f = new float[5][7];
    double[][] widened = new double[5][7];
    for (int t = 0; t < 5; t++) {
      for (int i = 0; i < 7; i++) {
        f[t][i] = (float) g[t][i];
        widened[t][i] = f[t][i];
      }
    }
    writeFloat32(dir.resolve("g32.npy"), f);
    Result r = run(new RecordingFactory(), "replay", "--method=sgd", "--grads=" + dir.resolve("g32.npy"),
        "--out=" + dir.resolve("u.npy"));
    assertEquals(0, r.code(), r.err());
    assertBitEqual(widened, readFloat64(dir.resolve("u.npy")));
  }

  @Test
  void dumpCompressedWritesCtAndUpdatesKeepTheRowOrder() throws Exception {
    double[][] g = gradients(6, 4);
    writeFloat64(dir.resolve("g.npy"), g);
    Result r = run(config -> new RunningSumStepper(), "replay", "--method", "sgd", "--grads",
        dir.resolve("g.npy").toString(), "--out", dir.resolve("u.npy").toString(), "--dump-compressed",
        dir.resolve("c.npy").toString());
    assertEquals(0, r.code(), r.err());
    double[][] u = readFloat64(dir.resolve("u.npy"));
    double[][] c = readFloat64(dir.resolve("c.npy"));
    double[] sum = new double[4];
    for (int t = 0; t < 6; t++) {
      for (int i = 0; i < 4; i++) {
        sum[i] += g[t][i];
        assertEquals(2 * g[t][i], c[t][i], 0.0);
      }
      assertArrayEquals(sum, u[t], 0.0);
    }
    assertEquals(List.of("c.npy", "g.npy", "u.npy"), listing(dir));
  }

  @Test
  void emptyGradientFileGivesEmptyOutputs() throws Exception {
    CliFixtures.writeNpy(dir.resolve("g.npy"), "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }",
        new byte[0]);
    Result r = run(new RecordingFactory(), "replay", "--method", "sgd", "--grads", dir.resolve("g.npy").toString(),
        "--out", dir.resolve("u.npy").toString());
    assertEquals(0, r.code(), r.err());
    assertEquals(0, readFloat64(dir.resolve("u.npy")).length);
    assertTrue(Files.readString(dir.resolve("u.npy"), java.nio.charset.StandardCharsets.ISO_8859_1)
        .contains("'shape': (0, 3)"));
  }

  @Test
  void optionsBecomeTheOptimizerConfiguration() throws Exception {
    writeFloat64(dir.resolve("g.npy"), gradients(2, 1230));
    RecordingFactory f = new RecordingFactory();
    Result r = run(f, "replay", "--method", "dense-mfac", "--grads", dir.resolve("g.npy").toString(), "--out",
        dir.resolve("u.npy").toString(), "--m", "16", "--damp", "0.003", "--eps", "0.25", "--rank", "2",
        "--shapes", "30x40,30", "--ridge", "0", "--seed", "-7", "--k", "0.5");
    assertEquals(0, r.code(), r.err());
    OptimizerConfig c = f.only();
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
  void absentOptionsTakeThePapersDefaults() throws Exception {
    writeFloat64(dir.resolve("g.npy"), gradients(1, 10));
    RecordingFactory f = new RecordingFactory();
    for (String method : new String[] {"dense-mfac", "dense-ggt", "sgd"}) {
      Result r = run(f, "replay", "--method", method, "--grads", dir.resolve("g.npy").toString(), "--out",
          dir.resolve("u.npy").toString());
      assertEquals(0, r.code(), r.err());
    }
    OptimizerConfig mfac = f.made.get(0).config;
    OptimizerConfig ggt = f.made.get(1).config;
    assertEquals(1024, mfac.window());
    assertEquals(100, ggt.window());
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
  void successReplacesAnExistingOutputFile() throws Exception {
    double[][] g = gradients(3, 4);
    writeFloat64(dir.resolve("g.npy"), g);
    Files.writeString(dir.resolve("u.npy"), "old contents");
    Result r = run(new RecordingFactory(), "replay", "--method", "sgd", "--grads", dir.resolve("g.npy").toString(),
        "--out", dir.resolve("u.npy").toString());
    assertEquals(0, r.code(), r.err());
    assertBitEqual(g, readFloat64(dir.resolve("u.npy")));
    assertFalse(listing(dir).stream().anyMatch(n -> n.endsWith(".tmp")));
  }
}
