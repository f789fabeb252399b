package org.efcp.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ActivationTest {

  @Test
  void parsesNamesIgnoringCaseAndSpace() {
    assertEquals(Activation.RELU, Activation.parse("relu"));
    assertEquals(Activation.SIGMOID, Activation.parse(" Sigmoid "));
    assertEquals(Activation.TANH, Activation.parse("TANH"));
  }

  @Test
  void rejectsUnknownNamesWithTheParameterName() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Activation.parse("gelu"));
    assertEquals("activation: unknown 'gelu' (expected relu, sigmoid or tanh)", e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Activation.parse(null));
  }

  @Test
  void derivativesWrittenFromOutputsMatchTheFormulas() {
    double[] z = {-2, -0.5, 0.5, 3};
    for (Activation act : Activation.values()) {
      double[] a = z.clone();
      act.apply(a, a.length);
      double[] delta = {1, 1, 1, 1};
      act.multiplyDerivative(delta, a, a.length);
      double[] expected = new double[4];
      double[] expectedA = new double[4];
      for (int k = 0; k < 4; k++) {
        switch (act) {
          case RELU -> {
            expectedA[k] = Math.max(z[k], 0);
            expected[k] = z[k] > 0 ? 1 : 0;
          }
          case SIGMOID -> {
            expectedA[k] = 1 / (1 + Math.exp(-z[k]));
            expected[k] = Math.exp(-z[k]) / Math.pow(1 + Math.exp(-z[k]), 2);
          }
          case TANH -> {
            expectedA[k] = Math.tanh(z[k]);
            expected[k] = 1 / Math.pow(Math.cosh(z[k]), 2);
          }
        }
      }
      assertArrayEquals(expectedA, a, 1e-15, act.name());
      assertArrayEquals(expected, delta, 1e-14, act.name());
    }
  }
}
