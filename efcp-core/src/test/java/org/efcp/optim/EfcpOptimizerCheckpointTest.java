package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.ObjectOutputStream;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** save → load → continue is bit-identical for every method, and load refuses anything but a checkpoint. */
class EfcpOptimizerCheckpointTest {
  /** A 5×8 matrix and a 1-D tensor of 20, so low-rank has both kinds. */
  private static final TensorLayout LAYOUT = TensorLayout.parse("5x8,20");
  private static final int D = 60;

  private static OptimizerConfig config(Method method) {
    return OptimizerConfig.builder(method, LAYOUT)
        .window(8).density(0.1).rank(2).damping(1e-2).seed(5)
        .learningRate(1e-2).momentum(0.5).weightDecay(1e-3).clipNorm(50)
        .schedule(LearningRateSchedule.cosine(40))
        .build();
  }

  /** A noisy quadratic: g = θ − θ* + noise_t, with noise drawn from the step index alone. */
  private static double[] gradient(double[] theta, int t) {
    Random rnd = new Random(1000 + t);
    double[] g = new double[theta.length];
    for (int i = 0; i < g.length; i++) {
      g[i] = theta[i] - Math.sin(i) + 0.3 * rnd.nextGaussian();
    }
    return g;
  }

  private static byte[] save(EfcpOptimizer opt) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    opt.save(bytes);
    return bytes.toByteArray();
  }

  @ParameterizedTest
  @EnumSource(Method.class)
  void restoredOptimizerContinuesBitIdentically(Method method) throws IOException {
    EfcpOptimizer original = new EfcpOptimizer(config(method));
    double[] theta = new double[D];
    for (int t = 0; t < 20; t++) {
      original.step(theta, gradient(theta, t), t % 2 == 0);
    }
    EfcpOptimizer restored = EfcpOptimizer.load(new ByteArrayInputStream(save(original)));
    assertEquals(20, restored.stepCount());
    assertEquals(method, restored.config().method());
    assertEquals(original.memoryBytes(), restored.memoryBytes());

    double[] thetaRestored = theta.clone();
    for (int t = 20; t < 35; t++) {
      double[] g = gradient(theta, t);
      StepResult a = original.step(theta, g, true);
      StepResult b = restored.step(thetaRestored, g.clone(), true);
      assertEquals(a, b, "step " + t);
      assertArrayEquals(theta, thetaRestored, 0.0, "theta after step " + t);
    }
    assertTrue(Arrays.stream(theta).allMatch(Double::isFinite), "theta stays finite");
  }

  @Test
  void checkpointsCanBeSavedRepeatedlyAndLoadedFromAnOffset() throws IOException {
    EfcpOptimizer opt = new EfcpOptimizer(config(Method.SGD));
    double[] theta = new double[D];
    opt.step(theta, gradient(theta, 0));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    bytes.write(new byte[] {1, 2, 3});
    opt.save(bytes);
    ByteArrayInputStream in = new ByteArrayInputStream(bytes.toByteArray());
    assertEquals(3, in.skip(3));
    EfcpOptimizer restored = EfcpOptimizer.load(in);
    assertEquals(1, restored.stepCount());
    assertArrayEquals(opt.momentumBuffer(), restored.momentumBuffer(), 0.0);
  }

  private static String loadError(byte[] bytes) {
    return assertThrows(IOException.class, () -> EfcpOptimizer.load(new ByteArrayInputStream(bytes)))
        .getMessage();
  }

  private static byte[] withHeader(int version, byte[] body) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(bytes);
    out.write(new byte[] {'E', 'F', 'C', 'P', 'O', 'P', 'T', '\n'});
    out.writeInt(version);
    out.write(body);
    out.flush();
    return bytes.toByteArray();
  }

  private static byte[] serialized(Object o) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(o);
    }
    return bytes.toByteArray();
  }

  @Test
  void loadRejectsGarbageWithAClearMessage() throws IOException {
    assertTrue(loadError(new byte[0]).contains("not an EFCP optimizer checkpoint"));
    byte[] random = new byte[256];
    new Random(1).nextBytes(random);
    assertTrue(loadError(random).contains("not an EFCP optimizer checkpoint"));
    assertTrue(loadError("hello world, not a checkpoint".getBytes(java.nio.charset.StandardCharsets.UTF_8))
        .contains("bad magic"));
    // A plain Java-serialised optimizer without our header is refused too.
    assertTrue(loadError(serialized(new EfcpOptimizer(config(Method.SGD)))).contains("bad magic"));
  }

  @Test
  void loadRejectsOtherVersionsTruncationAndForeignObjects() throws IOException {
    byte[] good = save(new EfcpOptimizer(config(Method.SGD)));
    assertTrue(loadError(withHeader(2, new byte[0])).contains("unsupported format version 2"));
    assertTrue(loadError(Arrays.copyOf(good, 10)).contains("truncated"));
    String truncated = loadError(Arrays.copyOf(good, good.length / 2));
    assertTrue(truncated.startsWith("checkpoint:"), truncated);
    byte[] corrupt = good.clone();
    for (int i = 12; i < 40; i++) {
      corrupt[i] ^= 0x5A;
    }
    assertTrue(loadError(corrupt).startsWith("checkpoint: corrupt"), loadError(corrupt));
    assertTrue(loadError(withHeader(1, serialized("a string"))).contains("holds a java.lang.String"));
    assertTrue(loadError(withHeader(1, serialized(LocalDate.of(2024, 1, 1)))).contains("disallowed class"));
  }
}
