package org.efcp.cli;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.TensorLayout;

/**
 * The optimizer options shared by {@code replay} and {@code bench}: {@code --method --m --k --damp --eps
 * --rank --shapes --ridge --seed}. Syntax is checked when parsed; ranges by {@link OptimizerConfig.Builder#build()}
 * once d is known, with its messages re-labelled by the option that set the value.
 */
record ConfigOptions(
    Method method, int window, double density, double damping, Double epsilon, int rank, String shapes,
    double ridge, long seed) {

  static final Set<String> FLAGS = Set.of("method", "m", "k", "damp", "eps", "rank", "shapes", "ridge", "seed");

  /** The option names a command accepts: {@link #FLAGS} plus the command's own. */
  static Set<String> flagsWith(String... commandFlags) {
    Set<String> s = new HashSet<>(FLAGS);
    s.addAll(List.of(commandFlags));
    return Set.copyOf(s);
  }

  /** Builder parameter name → the option that sets it. */
  private static final Map<String, String> OPTION_OF = Map.of(
      "method", "--method", "window", "--m", "density", "--k", "damping", "--damp", "ggtEpsilon", "--eps",
      "adagradEpsilon", "--eps", "rank", "--rank", "ridge", "--ridge", "shapes", "--shapes");

  /** The builder's defaults (density, damping, rank, ridge, seed do not depend on the method). */
  private static final OptimizerConfig DEFAULTS = OptimizerConfig.builder(Method.SGD, TensorLayout.flat(1)).build();

  /** Parses the options (method name, number syntax, --m ≥ 1, --k > 0); the rest is checked by {@link #toConfig}. */
  static ConfigOptions parse(CliArgs args, Method defaultMethod) {
    Method method;
    try {
      method = args.has("method") ? Method.fromName(args.string("method", null)) : defaultMethod;
    } catch (IllegalArgumentException e) {
      throw relabel(e);
    }
    // Builder.window(0) means "the method's default", so an explicit 0 must be rejected here.
    int window = args.intValue("m", 0);
    if (args.has("m") && window < 1) {
      throw new CliException("--m: must be >= 1, got " + window);
    }
    // The builder checks the density only for Top-k methods; reject nonsense for every method.
    double density = args.doubleValue("k", DEFAULTS.density());
    if (!(density > 0)) {
      throw new CliException("--k: must be > 0 (a fraction <= 1 or a count > 1), got " + args.string("k", ""));
    }
    Double epsilon = args.has("eps") ? args.doubleValue("eps", 0) : null;
    return new ConfigOptions(method, window, density, args.doubleValue("damp", DEFAULTS.damping()), epsilon,
        args.intValue("rank", DEFAULTS.rank()), args.string("shapes", null), args.doubleValue("ridge", DEFAULTS.ridge()),
        args.longValue("seed", DEFAULTS.seed()));
  }

  /** The d that {@code --shapes} adds up to (call only when it was given). */
  int layoutDimension() {
    try {
      return TensorLayout.parse(shapes).dimension();
    } catch (IllegalArgumentException e) {
      throw relabel(e);
    }
  }

  /** The tensor layout: {@code --shapes} if given, else one flat tensor of length {@code d}; must add up to d. */
  TensorLayout layout(int d) {
    if (shapes == null) {
      return TensorLayout.flat(d);
    }
    TensorLayout layout;
    try {
      layout = TensorLayout.parse(shapes);
    } catch (IllegalArgumentException e) {
      throw relabel(e);
    }
    if (layout.dimension() != d) {
      throw new CliException("--shapes: '" + shapes + "' adds up to " + layout.dimension() + " but d = " + d);
    }
    return layout;
  }

  /**
   * The validated configuration for d parameters (lr 1, no momentum, weight decay or clipping).
   *
   * @throws CliException naming the option whose value is out of range
   */
  OptimizerConfig toConfig(int d) {
    OptimizerConfig.Builder b = OptimizerConfig.builder(method, layout(d))
        .window(window).density(density).damping(damping).rank(rank).ridge(ridge).seed(seed);
    if (epsilon != null) {
      if (method == Method.ADAGRAD_EF) {
        b.adagradEpsilon(epsilon);
      } else {
        b.ggtEpsilon(epsilon);
      }
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw relabel(e);
    }
  }

  /** "damping: must be > 0" → "--damp (damping): must be > 0". */
  private static CliException relabel(IllegalArgumentException e) {
    String msg = String.valueOf(e.getMessage());
    int colon = msg.indexOf(':');
    String option = colon > 0 ? OPTION_OF.get(msg.substring(0, colon)) : null;
    if (option == null) {
      return new CliException(msg);
    }
    String param = msg.substring(0, colon);
    String label = option.substring(2).equals(param) ? option : option + " (" + param + ")";
    return new CliException(label + msg.substring(colon));
  }
}
