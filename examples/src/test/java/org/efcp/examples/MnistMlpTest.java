package org.efcp.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.apache.spark.ml.linalg.Vectors;
import org.efcp.ml.classification.EFCPMultilayerPerceptronClassifier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class MnistMlpTest {

  @Test
  void defaultsAreTheTunedSparseMfacSetting() {
    MnistMlp.Settings s = MnistMlp.parse(new String[0]);
    EFCPMultilayerPerceptronClassifier e = s.estimator();
    assertEquals(Path.of("data/mnist"), s.data());
    assertArrayEquals(new int[] {784, 256, 10}, e.getLayers());
    assertEquals("sparse-mfac", e.getOptimizer());
    assertEquals("relu", e.getActivation());
    // The setting tuned on MNIST (98.5 % test accuracy after 10 epochs), as the class Javadoc states it.
    assertEquals(10, s.epochs());
    assertEquals(512, e.getBatchSize());
    assertEquals(0.007, e.getStepSize(), 0.0);
    assertEquals(1e-4, e.getDamping(), 0.0);
    assertEquals(0.1, e.getDensity(), 0.0);
    assertEquals(64, e.getGradientWindow());
    assertEquals(0.0, e.getMomentum(), 0.0);
    assertEquals("cosine", e.getLrSchedule());
    assertTrue(s.evalEveryEpoch());
    assertEquals(2, s.partitions());
  }

  @Test
  void flagsReachTheEstimator() {
    MnistMlp.Settings s = MnistMlp.parse(new String[] {"--data", "d", "--layers", "784,64,32,10",
        "--activation", "tanh", "--epochs", "4", "--batch-size", "256", "--optimizer", "dense-mfac",
        "--step-size", "0.3", "--damping", "0.01", "--density", "0.2", "--gradient-window", "16",
        "--momentum", "0.5", "--weight-decay", "0.001", "--lr-schedule", "linear", "--eval", "end",
        "--partitions", "3", "--seed", "-7"});
    EFCPMultilayerPerceptronClassifier e = s.estimator();
    assertEquals(Path.of("d"), s.data());
    assertArrayEquals(new int[] {784, 64, 32, 10}, e.getLayers());
    assertEquals("tanh", e.getActivation());
    assertEquals(4, e.getNumEpochs());
    assertEquals(256, e.getBatchSize());
    assertEquals("dense-mfac", e.getOptimizer());
    assertEquals(0.3, e.getStepSize(), 0.0);
    assertEquals(0.01, e.getDamping(), 0.0);
    assertEquals(0.2, e.getDensity(), 0.0);
    assertEquals(16, e.getGradientWindow());
    assertEquals(0.5, e.getMomentum(), 0.0);
    assertEquals(0.001, e.getWeightDecay(), 0.0);
    assertEquals("linear", e.getLrSchedule());
    assertEquals(-7L, e.getSeed());
    assertFalse(s.evalEveryEpoch());
    assertEquals(3, s.partitions());
  }

  @Test
  void epochFitsRunOneEpochAtTheScheduleRateOfTheirEpoch() {
    MnistMlp.Settings s = MnistMlp.parse(new String[] {"--epochs", "4", "--step-size", "0.2", "--seed", "10"});
    double c = Math.cos(Math.PI / 4);
    double[] expectedRates = {0.2, 0.2 * 0.5 * (1 + c), 0.1, 0.2 * 0.5 * (1 - c)};
    for (int epoch = 1; epoch <= 4; epoch++) {
      EFCPMultilayerPerceptronClassifier fit = s.epochFit(epoch, null);
      assertEquals(expectedRates[epoch - 1], fit.getStepSize(), 1e-15, "epoch " + epoch);
      assertEquals(1, fit.getNumEpochs());
      assertEquals("constant", fit.getLrSchedule());
      assertEquals(10L + epoch, fit.getSeed());
    }
    assertNull(s.epochFit(1, null).getInitialWeights());
    assertArrayEquals(new double[] {1, 2}, s.epochFit(2, Vectors.dense(1, 2)).getInitialWeights().toArray(), 0.0);
    // The template is not changed by the per-epoch copies.
    assertEquals(0.2, s.estimator().getStepSize(), 0.0);
    assertEquals(4, s.estimator().getNumEpochs());
  }

  @Test
  void badArgumentsAreReportedUnderTheirOption() {
    assertMessageStarts("--bogus", "--bogus", "1");
    assertMessageStarts("--epochs", "--epochs", "0");
    assertMessageStarts("--layers", "--layers", "784,256,1");
    assertMessageStarts("--layers", "--layers", "784,x,10");
    assertMessageStarts("--activation", "--activation", "softplus");
    assertMessageStarts("--optimizer", "--optimizer", "adam");
    assertMessageStarts("--step-size", "--step-size", "0");
    assertMessageStarts("--damping", "--damping", "-1");
    assertMessageStarts("--density", "--density", "1.5");
    assertMessageStarts("--gradient-window", "--gradient-window", "0");
    assertMessageStarts("--momentum", "--momentum", "1");
    assertMessageStarts("--lr-schedule", "--lr-schedule", "exponential");
    assertMessageStarts("--lr-schedule", "--lr-schedule", "step:0.5:0", "--epochs", "4");
    assertMessageStarts("--eval", "--eval", "never");
    assertMessageStarts("--seed", "--seed", "1.5");
    assertMessageStarts("--partitions", "--partitions", "0");
  }

  private static void assertMessageStarts(String option, String... args) {
    Executable call = () -> MnistMlp.parse(args);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().startsWith(option + ": "), e.getMessage());
  }
}
