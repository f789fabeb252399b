package org.efcp.model;

import java.util.Locale;

/**
 * Hidden-layer activation of a {@link MultilayerPerceptron}. Each derivative is written in terms of the
 * activation's output a = f(z), so the backward pass needs only the stored activations.
 */
public enum Activation {
  /** max(z, 0); derivative 1 for a &gt; 0, else 0 (0 at the kink, as PyTorch); He-uniform initialisation. */
  RELU {
    @Override
    void apply(double[] values, int length) {
      for (int k = 0; k < length; k++) {
        values[k] = Math.max(values[k], 0.0);
      }
    }

    @Override
    void multiplyDerivative(double[] delta, double[] activated, int length) {
      for (int k = 0; k < length; k++) {
        delta[k] = activated[k] > 0 ? delta[k] : 0.0;
      }
    }

    @Override
    double initLimit(int fanIn, int fanOut) {
      return Math.sqrt(6.0 / fanIn);
    }
  },

  /** 1 / (1 + e^−z); derivative a(1 − a); Glorot-uniform initialisation. */
  SIGMOID {
    @Override
    void apply(double[] values, int length) {
      for (int k = 0; k < length; k++) {
        values[k] = 1.0 / (1.0 + Math.exp(-values[k]));
      }
    }

    @Override
    void multiplyDerivative(double[] delta, double[] activated, int length) {
      for (int k = 0; k < length; k++) {
        double a = activated[k];
        delta[k] *= a * (1.0 - a);
      }
    }

    @Override
    double initLimit(int fanIn, int fanOut) {
      return glorotLimit(fanIn, fanOut);
    }
  },

  /** tanh z; derivative 1 − a²; Glorot-uniform initialisation. */
  TANH {
    @Override
    void apply(double[] values, int length) {
      for (int k = 0; k < length; k++) {
        values[k] = Math.tanh(values[k]);
      }
    }

    @Override
    void multiplyDerivative(double[] delta, double[] activated, int length) {
      for (int k = 0; k < length; k++) {
        double a = activated[k];
        delta[k] *= 1.0 - a * a;
      }
    }

    @Override
    double initLimit(int fanIn, int fanOut) {
      return glorotLimit(fanIn, fanOut);
    }
  };

  /**
   * The activation named {@code name} (case-insensitive: relu, sigmoid, tanh).
   *
   * @throws IllegalArgumentException "activation: ..." for any other name
   */
  public static Activation parse(String name) {
    if (name != null) {
      switch (name.trim().toLowerCase(Locale.ROOT)) {
        case "relu":
          return RELU;
        case "sigmoid":
          return SIGMOID;
        case "tanh":
          return TANH;
        default:
          break;
      }
    }
    throw new IllegalArgumentException("activation: unknown '" + name + "' (expected relu, sigmoid or tanh)");
  }

  /** Replaces {@code values[0 .. length)} (pre-activations) by their activations. */
  abstract void apply(double[] values, int length);

  /** Multiplies {@code delta[k]} by f'(z_k), given {@code activated[k]} = f(z_k). */
  abstract void multiplyDerivative(double[] delta, double[] activated, int length);

  /** Half-width of the uniform initialisation of a weight matrix that feeds this activation. */
  abstract double initLimit(int fanIn, int fanOut);

  /** Glorot (Xavier) uniform: sqrt(6 / (fanIn + fanOut)). */
  static double glorotLimit(int fanIn, int fanOut) {
    return Math.sqrt(6.0 / ((double) fanIn + fanOut));
  }
}
