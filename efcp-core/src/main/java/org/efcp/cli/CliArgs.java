package org.efcp.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * The {@code --name value} (or {@code --name=value}) options of one command, checked against the names the
 * command accepts. Typed getters reject malformed values with a {@link CliException} naming the option.
 */
final class CliArgs {
  private final Map<String, String> values;

  private CliArgs(Map<String, String> values) {
    this.values = values;
  }

  /**
   * Parses {@code args[from..]} for {@code command}.
   *
   * @throws CliException for an unknown or repeated option, a missing value or a stray argument
   */
  static CliArgs parse(String command, String[] args, int from, Set<String> allowed) {
    Map<String, String> values = new LinkedHashMap<>();
    for (int i = from; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--") || arg.length() == 2) {
        throw new CliException("unexpected argument '" + arg + "' for 'efcp " + command + "' (options are --name value)");
      }
      int eq = arg.indexOf('=');
      String name = eq < 0 ? arg.substring(2) : arg.substring(2, eq);
      if (!allowed.contains(name)) {
        throw new CliException("unknown option '--" + name + "' for 'efcp " + command + "' (see efcp help)");
      }
      String value;
      if (eq >= 0) {
        value = arg.substring(eq + 1);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        throw new CliException("--" + name + ": missing value");
      }
      if (values.put(name, value) != null) {
        throw new CliException("--" + name + ": given more than once");
      }
    }
    return new CliArgs(values);
  }

  boolean has(String name) {
    return values.containsKey(name);
  }

  String string(String name, String defaultValue) {
    return values.getOrDefault(name, defaultValue);
  }

  String required(String name) {
    String v = values.get(name);
    if (v == null || v.isEmpty()) {
      throw new CliException("--" + name + ": required");
    }
    return v;
  }

  int intValue(String name, int defaultValue) {
    long v = longValue(name, defaultValue);
    if (v != (int) v) {
      throw new CliException("--" + name + ": out of range: '" + values.get(name) + "'");
    }
    return (int) v;
  }

  long longValue(String name, long defaultValue) {
    String v = values.get(name);
    if (v == null) {
      return defaultValue;
    }
    try {
      return Long.parseLong(v.trim());
    } catch (NumberFormatException e) {
      throw new CliException("--" + name + ": not an integer: '" + v + "'");
    }
  }

  /** A finite double (NaN and infinities are rejected). */
  double doubleValue(String name, double defaultValue) {
    String v = values.get(name);
    if (v == null) {
      return defaultValue;
    }
    double x;
    try {
      x = Double.parseDouble(v.trim());
    } catch (NumberFormatException e) {
      throw new CliException("--" + name + ": not a number: '" + v + "'");
    }
    if (!Double.isFinite(x)) {
      throw new CliException("--" + name + ": must be finite, got '" + v + "'");
    }
    return x;
  }
}
