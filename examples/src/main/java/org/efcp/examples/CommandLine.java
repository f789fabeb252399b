package org.efcp.examples;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code --name value} arguments of an example's {@code main}, checked against the options it knows.
 * Every problem is an {@link IllegalArgumentException} whose message starts with the option name, so a
 * main can print it as its one error line.
 */
final class CommandLine {

  private final Map<String, String> values;

  private CommandLine(Map<String, String> values) {
    this.values = values;
  }

  /**
   * Parses {@code args} as {@code --name value} pairs.
   *
   * @param args the arguments as given to {@code main}
   * @param defaults every known option name (with its leading {@code --}) mapped to its default value, or to
   *     {@code null} when the option is required
   */
  static CommandLine parse(String[] args, Map<String, String> defaults) {
    Map<String, String> values = new LinkedHashMap<>(defaults);
    for (int i = 0; i < args.length; i += 2) {
      String name = args[i];
      if (!defaults.containsKey(name)) {
        throw new IllegalArgumentException(name + ": unknown option; known: " + String.join(" ", defaults.keySet()));
      }
      if (i + 1 >= args.length) {
        throw new IllegalArgumentException(name + ": missing value");
      }
      values.put(name, args[i + 1]);
    }
    for (Map.Entry<String, String> e : values.entrySet()) {
      if (e.getValue() == null) {
        throw new IllegalArgumentException(e.getKey() + ": required");
      }
    }
    return new CommandLine(values);
  }

  String string(String name) {
    return value(name);
  }

  /** The option as a long ≥ 1. */
  long positiveLong(String name) {
    long v;
    try {
      v = Long.parseLong(value(name));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": expected a positive integer, got '" + value(name) + "'");
    }
    if (v < 1) {
      throw new IllegalArgumentException(name + ": expected a positive integer, got " + v);
    }
    return v;
  }

  /** The option as a long ≥ 0. */
  long nonNegativeLong(String name) {
    try {
      long v = Long.parseLong(value(name));
      if (v >= 0) {
        return v;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(name + ": expected an integer >= 0, got '" + value(name) + "'");
  }

  /** The option as an int ≥ 1. */
  int positiveInt(String name) {
    long v = positiveLong(name);
    if (v > Integer.MAX_VALUE) {
      throw new IllegalArgumentException(name + ": " + v + " is too large");
    }
    return (int) v;
  }

  /** The option as a finite double ≥ 0. */
  double nonNegativeDouble(String name) {
    double v;
    try {
      v = Double.parseDouble(value(name));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": expected a number ≥ 0, got '" + value(name) + "'");
    }
    if (!(v >= 0) || Double.isInfinite(v)) {
      throw new IllegalArgumentException(name + ": expected a finite number ≥ 0, got " + v);
    }
    return v;
  }

  /** The option as a comma-separated list of ints ≥ 1; the empty string is the empty list. */
  List<Integer> positiveIntList(String name) {
    String raw = value(name).trim();
    if (raw.isEmpty()) {
      return Collections.emptyList();
    }
    List<Integer> out = new ArrayList<>();
    for (String part : raw.split(",")) {
      int v;
      try {
        v = Integer.parseInt(part.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(name + ": expected comma-separated positive integers, got '" + raw + "'");
      }
      if (v < 1) {
        throw new IllegalArgumentException(name + ": expected comma-separated positive integers, got '" + raw + "'");
      }
      out.add(v);
    }
    return out;
  }

  private String value(String name) {
    if (!values.containsKey(name)) {
      throw new IllegalStateException(name + " is not a declared option");
    }
    return values.get(name);
  }
}
