package org.efcp.optim;

import java.io.Serializable;
import java.util.Arrays;
import java.util.Locale;

/**
 * The learning rate η_t for step t (counted from 0) as a factor of the base rate η_0. Schedules that decay
 * over training need the total number of steps T; steps past T keep the final factor.
 */
@FunctionalInterface
public interface LearningRateSchedule extends Serializable {

  /** The factor η_t / η_0 at step {@code t ≥ 0}. */
  double factor(long t);

  /** η_t = η_0 (the default). */
  static LearningRateSchedule constant() {
    return new Named("constant", t -> 1.0);
  }

  /** η_t = η_0 · ½(1 + cos(π t / T)) (the paper's logistic-regression schedule, T = 100,100 there). */
  static LearningRateSchedule cosine(long totalSteps) {
    requireSteps(totalSteps, "cosine");
    return new Named("cosine", t -> 0.5 * (1 + Math.cos(Math.PI * Math.min(t, totalSteps) / totalSteps)));
  }

  /** η_t = η_0 · (1 − t/T), reaching 0 at T. */
  static LearningRateSchedule linear(long totalSteps) {
    requireSteps(totalSteps, "linear");
    return new Named("linear", t -> 1.0 - (double) Math.min(t, totalSteps) / totalSteps);
  }

  /**
   * η_t = η_0 · gamma^(number of boundaries passed), with boundaries at the given fractions of T (the paper's
   * CIFAR schedule is fractions {0.5, 0.75}, gamma 0.1).
   */
  static LearningRateSchedule step(long totalSteps, double[] fractions, double gamma) {
    requireSteps(totalSteps, "step");
    if (!(gamma > 0 && gamma <= 1)) {
      throw new IllegalArgumentException("lrSchedule: step decay factor must be in (0, 1], got " + gamma);
    }
    long[] bounds = new long[fractions.length];
    for (int i = 0; i < fractions.length; i++) {
      if (!(fractions[i] > 0 && fractions[i] < 1)) {
        throw new IllegalArgumentException("lrSchedule: step fractions must be in (0, 1), got " + fractions[i]);
      }
      bounds[i] = (long) Math.floor(fractions[i] * totalSteps);
    }
    Arrays.sort(bounds);
    return new Named("step", t -> {
      double f = 1;
      for (long b : bounds) {
        if (t >= b) {
          f *= gamma;
        }
      }
      return f;
    });
  }

  /**
   * Parses {@code constant}, {@code cosine}, {@code linear} or {@code step} (fractions 0.5, 0.75 and factor 0.1,
   * or {@code step:0.3,0.6,0.9:0.5} for others).
   */
  static LearningRateSchedule parse(String spec, long totalSteps) {
    String s = spec == null ? "" : spec.trim().toLowerCase(Locale.ROOT);
    if (s.equals("constant")) {
      return constant();
    } else if (s.equals("cosine")) {
      return cosine(totalSteps);
    } else if (s.equals("linear")) {
      return linear(totalSteps);
    } else if (s.equals("step")) {
      return step(totalSteps, new double[] {0.5, 0.75}, 0.1);
    } else if (s.startsWith("step:")) {
      String[] parts = s.split(":");
      if (parts.length != 3) {
        throw new IllegalArgumentException("lrSchedule: expected step:F1,F2,...:GAMMA, got '" + spec + "'");
      }
      try {
        double[] fr = Arrays.stream(parts[1].split(",")).mapToDouble(Double::parseDouble).toArray();
        return step(totalSteps, fr, Double.parseDouble(parts[2]));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("lrSchedule: cannot parse '" + spec + "'");
      }
    }
    throw new IllegalArgumentException("lrSchedule: unknown '" + spec + "' (expected constant, cosine, linear or step)");
  }

  private static void requireSteps(long totalSteps, String name) {
    if (totalSteps < 1) {
      throw new IllegalArgumentException("lrSchedule: " + name + " needs the total number of steps (got " + totalSteps + ")");
    }
  }

  /** A schedule with a readable name (for summaries and logs). */
  final class Named implements LearningRateSchedule {
    private static final long serialVersionUID = 1L;
    private final String name;
    private final LearningRateSchedule f;

    Named(String name, LearningRateSchedule f) {
      this.name = name;
      this.f = f;
    }

    @Override
    public double factor(long t) {
      return f.factor(t);
    }

    @Override
    public String toString() {
      return name;
    }
  }
}
