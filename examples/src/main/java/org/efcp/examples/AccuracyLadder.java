package org.efcp.examples;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.IntFunction;

/**
 * Time to a target accuracy, measured the only way an estimator without per-iteration evaluation allows: a
 * ladder of separate fits with growing budgets (MLlib's maxIter, EFCP's numEpochs), each from scratch and timed
 * on its own, climbed until the first fit whose accuracy reaches the target. That fit's wall time is the time to
 * target; the lower rungs are not added to it.
 *
 * @param name what climbed, e.g. {@code MLlib} or {@code EFCP (stream)}
 * @param target the accuracy to reach, a fraction in [0, 1]
 * @param fits the fits made, in order; the ladder stops at the first one reaching the target
 */
record AccuracyLadder(String name, double target, List<Fit> fits) {

  /**
   * One timed fit.
   *
   * @param method who trained, e.g. {@code MLlib L-BFGS} or {@code EFCP sparse-mfac}
   * @param setting the fit's settings in words
   * @param budget the rung: what bounded the fit, e.g. {@code maxIter 25} or {@code 2 epochs}
   * @param iterations optimizer steps the fit ran (MLlib: L-BFGS iterations; EFCP: mini-batch steps)
   * @param fitSeconds wall time of {@code fit()} alone, s (data cached; evaluation not included)
   * @param accuracy fraction of the evaluation rows predicted correctly
   */
  record Fit(String method, String setting, String budget, long iterations, double fitSeconds, double accuracy) {
  }

  AccuracyLadder {
    fits = List.copyOf(fits);
  }

  /**
   * Fits {@code budgets} in order with {@code fit} and stops after the first fit whose accuracy is at least
   * {@code target}; budgets past it are never fitted.
   *
   * @throws IllegalArgumentException starting with {@code budgets} when there are none
   */
  static AccuracyLadder climb(String name, List<Integer> budgets, double target, IntFunction<Fit> fit) {
    if (budgets.isEmpty()) {
      throw new IllegalArgumentException("budgets: " + name + " needs at least one rung");
    }
    List<Fit> fits = new ArrayList<>();
    for (int budget : budgets) {
      Fit f = fit.apply(budget);
      fits.add(f);
      if (f.accuracy() >= target) {
        break;
      }
    }
    return new AccuracyLadder(name, target, fits);
  }

  /** Whether {@code fit} reached this ladder's target. */
  boolean reached(Fit fit) {
    return fit.accuracy() >= target;
  }

  /** The first fit that reached the target (its wall time is the time to target), or empty if none did. */
  Optional<Fit> firstReaching() {
    return fits.stream().filter(this::reached).findFirst();
  }
}
