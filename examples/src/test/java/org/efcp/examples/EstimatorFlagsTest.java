package org.efcp.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.efcp.ml.classification.EFCPLogisticRegression;
import org.junit.jupiter.api.Test;

class EstimatorFlagsTest {

  @Test
  void camelCaseParamNamesBecomeKebabCaseFlags() {
    assertEquals("--step-size", EstimatorFlags.flag("stepSize"));
    assertEquals("--ggt-epsilon", EstimatorFlags.flag("ggtEpsilon"));
    assertEquals("--tol", EstimatorFlags.flag("tol"));
  }

  @Test
  void everyScalarParamOfTheEstimatorIsAFlagAndArraysAreNot() {
    List<String> flags = new ArrayList<>();
    EstimatorFlags.of(new EFCPLogisticRegression()).names().forEach(flags::add);
    for (String f : List.of("--optimizer", "--step-size", "--num-epochs", "--batch-size", "--gradient-window",
        "--density", "--rank", "--damping", "--ggt-epsilon", "--momentum", "--weight-decay", "--lr-schedule",
        "--clip-norm", "--tol", "--seed", "--aggregation-depth", "--metrics-interval", "--checkpoint-interval",
        "--checkpoint-dir", "--device", "--family", "--fit-intercept", "--standardization", "--features-col",
        "--label-col", "--weight-col")) {
      assertTrue(flags.contains(f), f + " missing from " + flags);
    }
    assertFalse(flags.contains("--thresholds"), "thresholds (double[]) has no scalar setter");
  }

  @Test
  void valuesAreParsedByParamTypeAndGoThroughTheSetters() {
    EFCPLogisticRegression lr = new EFCPLogisticRegression();
    EstimatorFlags flags = EstimatorFlags.of(lr);
    flags.set("--step-size", "0.25");
    flags.set("--num-epochs", " 7 ");
    flags.set("--seed", "12345678901");
    flags.set("--fit-intercept", "FALSE");
    flags.set("--optimizer", "Dense-GGT");
    flags.set("--label-col", "y");
    assertEquals(0.25, lr.getStepSize(), 0.0);
    assertEquals(7, lr.getNumEpochs());
    assertEquals(12345678901L, lr.getSeed());
    assertFalse(lr.getFitIntercept());
    // setOptimizer normalises the name: proof that the setter ran, not a raw set(param, value).
    assertEquals("dense-ggt", lr.getOptimizer());
    assertEquals("y", lr.getLabelCol());
  }

  @Test
  void badValuesAreReportedUnderTheFlag() {
    EstimatorFlags flags = EstimatorFlags.of(new EFCPLogisticRegression());
    Map<String, String> bad = Map.of(
        "--step-size", "fast",
        "--num-epochs", "2.5",
        "--fit-intercept", "yes",
        "--density", "1.5",
        "--optimizer", "adam",
        "--no-such-param", "1");
    for (Map.Entry<String, String> e : bad.entrySet()) {
      IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
          () -> flags.set(e.getKey(), e.getValue()));
      assertTrue(ex.getMessage().startsWith(e.getKey() + ": "), ex.getMessage());
    }
    IllegalArgumentException range = assertThrows(IllegalArgumentException.class, () -> flags.set("--density", "1.5"));
    assertTrue(range.getMessage().startsWith("--density: 1.5 is out of range"), range.getMessage());
  }

  @Test
  void usageListsEachFlagWithItsDocAndDefault() {
    String usage = EstimatorFlags.of(new EFCPLogisticRegression()).usage(Map.of("--num-epochs", "2"));
    assertTrue(usage.lines().anyMatch(l -> l.contains("--damping") && l.contains("NUMBER") && l.contains("0.001")),
        usage);
    assertTrue(usage.lines().anyMatch(l -> l.contains("--num-epochs") && l.endsWith("(default 2)")), usage);
  }
}
