package org.efcp.cli;

import static org.efcp.cli.CliFixtures.assertBitEqual;
import static org.efcp.cli.CliFixtures.gradients;
import static org.efcp.cli.CliFixtures.listing;
import static org.efcp.cli.CliFixtures.readFloat64;
import static org.efcp.cli.CliFixtures.run;
import static org.efcp.cli.CliFixtures.writeFloat32;
import static org.efcp.cli.CliFixtures.writeFloat64;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
 * {@code efcp replay}: the file plumbing (float32/float64 rows, U and C outputs, row order, atomic outputs)
 * through SGD, whose pipeline gives u = c = g exactly, and every method's output equal to running
 * {@link DirectionPipeline} directly on the same rows with the configuration the options name.
 */
class ReplayCommandTest {
  @TempDir Path dir;

  @Test
  void sgdReplayOfFloat64GradientsWritesThemBackBitExactly() throws Exception {
    double[][] g = gradients(9, 13);
    g[2][3] = -0.0;
    g[4][5] = Double.MIN_VALUE;
    writeFloat64(dir.resolve("g.npy"), g);
    Result r = run("replay", "--method", "sgd", "--grads", dir.resolve("g.npy").toString(), "--out",
        dir.resolve("u.npy").toString());
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
    Result r = run("replay", "--method=sgd", "--grads=" + dir.resolve("g32.npy"), "--out=" + dir.resolve("u.npy"));
    assertEquals(0, r.code(), r.err());
    assertBitEqual(widened, readFloat64(dir.resolve("u.npy")));
  }

  @Test
  void sgdDumpCompressedWritesTheGradientsAsCtAndUpdatesInRowOrder() throws Exception {
    double[][] g = gradients(6, 4);
    writeFloat64(dir.resolve("g.npy"), g);
    Result r = run("replay", "--method", "sgd", "--grads", dir.resolve("g.npy").toString(), "--out",
        dir.resolve("u.npy").toString(), "--dump-compressed", dir.resolve("c.npy").toString());
    assertEquals(0, r.code(), r.err());
    assertBitEqual(g, readFloat64(dir.resolve("u.npy")));
    assertBitEqual(g, readFloat64(dir.resolve("c.npy")));
    assertEquals(List.of("c.npy", "g.npy", "u.npy"), listing(dir));
  }

  @ParameterizedTest
  @EnumSource(Method.class)
  void replayEqualsRunningTheDirectionPipelineDirectly(Method method) throws Exception {
    int steps = 12;
    double[][] g = gradients(steps, 30);
    writeFloat64(dir.resolve("g.npy"), g);
    Result r = run("replay", "--method", method.cliName(), "--grads", dir.resolve("g.npy").toString(), "--out",
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
  void emptyGradientFileGivesEmptyOutputs() throws Exception {
    CliFixtures.writeNpy(dir.resolve("g.npy"), "{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }",
        new byte[0]);
    Result r = run("replay", "--method", "sgd", "--grads", dir.resolve("g.npy").toString(), "--out",
        dir.resolve("u.npy").toString());
    assertEquals(0, r.code(), r.err());
    assertEquals(0, readFloat64(dir.resolve("u.npy")).length);
    assertTrue(Files.readString(dir.resolve("u.npy"), StandardCharsets.ISO_8859_1).contains("'shape': (0, 3)"));
  }

  @Test
  void successReplacesAnExistingOutputFile() throws Exception {
    double[][] g = gradients(3, 4);
    writeFloat64(dir.resolve("g.npy"), g);
    Files.writeString(dir.resolve("u.npy"), "old contents");
    Result r = run("replay", "--method", "sgd", "--grads", dir.resolve("g.npy").toString(), "--out",
        dir.resolve("u.npy").toString());
    assertEquals(0, r.code(), r.err());
    assertBitEqual(g, readFloat64(dir.resolve("u.npy")));
    assertFalse(listing(dir).stream().anyMatch(n -> n.endsWith(".tmp")));
  }

  @Test
  void outputsGetTheSamePermissionsAsAnyNewFileInTheirDirectory() throws Exception {
    writeFloat64(dir.resolve("g.npy"), gradients(2, 3));
    Result r = run("replay", "--method", "sgd", "--grads", dir.resolve("g.npy").toString(), "--out",
        dir.resolve("u.npy").toString(), "--dump-compressed", dir.resolve("c.npy").toString());
    assertEquals(0, r.code(), r.err());
    Path plain = Files.createFile(dir.resolve("plain"));
    assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(dir.resolve("u.npy")));
    assertEquals(Files.getPosixFilePermissions(plain), Files.getPosixFilePermissions(dir.resolve("c.npy")));
  }
}
