package org.efcp.examples;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

import org.apache.spark.ml.param.BooleanParam;
import org.apache.spark.ml.param.DoubleParam;
import org.apache.spark.ml.param.FloatParam;
import org.apache.spark.ml.param.IntParam;
import org.apache.spark.ml.param.LongParam;
import org.apache.spark.ml.param.Param;
import org.apache.spark.ml.param.Params;

/**
 * Command-line flags for the params of a Spark ML estimator, derived from the estimator itself so that no list of
 * params is repeated: param {@code stepSize} is flag {@code --step-size}. Every param that has a public setter
 * taking one number, boolean or string ({@code setStepSize(double)}) is a flag; the value goes through that
 * setter, so it is checked and normalised exactly as in code. Params without such a setter (e.g. the
 * {@code thresholds} array) are not flags.
 */
final class EstimatorFlags {

  private final Params estimator;
  /** Flag (with its leading {@code --}) → the setter of its param, sorted by flag. */
  private final Map<String, Setter> setters;

  private record Setter(Param<?> param, Method method, Class<?> type) {
  }

  private EstimatorFlags(Params estimator, Map<String, Setter> setters) {
    this.estimator = estimator;
    this.setters = setters;
  }

  /** The flags of {@code estimator}'s params. */
  static EstimatorFlags of(Params estimator) {
    Map<String, Setter> setters = new TreeMap<>();
    for (Param<?> p : estimator.params()) {
      Class<?> type = valueType(p);
      if (type == null) {
        continue;
      }
      String name = "set" + Character.toUpperCase(p.name().charAt(0)) + p.name().substring(1);
      try {
        setters.put(flag(p.name()), new Setter(p, estimator.getClass().getMethod(name, type), type));
      } catch (NoSuchMethodException e) {
        // not settable from the command line
      }
    }
    return new EstimatorFlags(estimator, setters);
  }

  /** {@code stepSize} → {@code --step-size}. */
  static String flag(String paramName) {
    StringBuilder sb = new StringBuilder("--");
    for (char c : paramName.toCharArray()) {
      if (Character.isUpperCase(c)) {
        sb.append('-').append(Character.toLowerCase(c));
      } else {
        sb.append(c);
      }
    }
    return sb.toString();
  }

  /** The flags, sorted. */
  Iterable<String> names() {
    return setters.keySet();
  }

  boolean contains(String flag) {
    return setters.containsKey(flag);
  }

  /**
   * One usage line per flag: the flag, its value type, the param's doc and its current value, or the text
   * {@code defaults} gives for the flag.
   */
  String usage(Map<String, String> defaults) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, Setter> e : setters.entrySet()) {
      Param<?> p = e.getValue().param();
      sb.append(String.format(Locale.ROOT, "  %-24s %-7s %s", e.getKey(), metavar(e.getValue().type()), p.doc()));
      if (defaults.containsKey(e.getKey())) {
        sb.append(" (default ").append(defaults.get(e.getKey())).append(')');
      } else if (estimator.isDefined(p)) {
        Object v = estimator.getOrDefault(p);
        sb.append(" (default ").append("".equals(v) ? "none" : v).append(')');
      }
      sb.append('\n');
    }
    return sb.toString();
  }

  /**
   * Parses {@code value} as {@code flag}'s type and sets it through the param's setter.
   *
   * @throws IllegalArgumentException whose message starts with the flag: unknown flag, unparsable value, or the
   *     setter's own refusal (with the param name replaced by the flag)
   */
  void set(String flag, String value) {
    Setter s = setters.get(flag);
    if (s == null) {
      throw new IllegalArgumentException(flag + ": not a param of " + estimator.getClass().getSimpleName());
    }
    Object parsed = parse(flag, s.type(), value.trim());
    try {
      s.method().invoke(estimator, parsed);
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      if (cause instanceof IllegalArgumentException) {
        String m = String.valueOf(cause.getMessage());
        String prefix = s.param().name() + ":";
        throw new IllegalArgumentException(flag + ": " + (m.startsWith(prefix) ? m.substring(prefix.length()).trim()
            : m), cause);
      }
      throw new IllegalStateException(flag + ": " + s.method() + " failed", cause);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(flag + ": " + s.method() + " is not accessible", e);
    }
  }

  /** The setter argument type for a param class, or null for a type that has no flag. */
  private static Class<?> valueType(Param<?> p) {
    if (p instanceof DoubleParam) {
      return double.class;
    }
    if (p instanceof FloatParam) {
      return float.class;
    }
    if (p instanceof IntParam) {
      return int.class;
    }
    if (p instanceof LongParam) {
      return long.class;
    }
    if (p instanceof BooleanParam) {
      return boolean.class;
    }
    // A plain Param is typed only by its setter: a flag when there is a setX(String).
    return p.getClass() == Param.class ? String.class : null;
  }

  private static Object parse(String flag, Class<?> type, String value) {
    try {
      if (type == double.class) {
        return Double.parseDouble(value);
      }
      if (type == float.class) {
        return Float.parseFloat(value);
      }
      if (type == int.class) {
        return Integer.parseInt(value);
      }
      if (type == long.class) {
        return Long.parseLong(value);
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + ": expected " + typeName(type) + ", got '" + value + "'");
    }
    if (type == boolean.class) {
      if (value.equalsIgnoreCase("true") || value.equalsIgnoreCase("false")) {
        return Boolean.parseBoolean(value);
      }
      throw new IllegalArgumentException(flag + ": expected true or false, got '" + value + "'");
    }
    return value;
  }

  private static String metavar(Class<?> type) {
    if (type == double.class || type == float.class) {
      return "NUMBER";
    }
    if (type == int.class || type == long.class) {
      return "INT";
    }
    return type == boolean.class ? "BOOL" : "STRING";
  }

  private static String typeName(Class<?> type) {
    if (type == double.class || type == float.class) {
      return "a number";
    }
    if (type == int.class || type == long.class) {
      return "an integer";
    }
    return type == boolean.class ? "true|false" : "a string";
  }
}
