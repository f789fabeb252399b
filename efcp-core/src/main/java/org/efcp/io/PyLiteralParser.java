package org.efcp.io;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Parses the Python literal that a {@code .npy} header holds: dicts, strings ('...' or "..."), integers,
 * {@code True}/{@code False}/{@code None}, tuples and lists, with any whitespace and trailing commas.
 * Dicts become {@link Map}s with String keys, integers {@link Long}s, tuples {@link Tuple}s, lists
 * {@link List}s, {@code None} {@link #NONE}.
 */
final class PyLiteralParser {
  /** A Python tuple. */
  record Tuple(List<Object> items) {}

  /** Python's {@code None}. */
  static final Object NONE = new Object() {
    @Override
    public String toString() {
      return "None";
    }
  };

  private final String text;
  private int pos;

  private PyLiteralParser(String text) {
    this.text = text;
  }

  /**
   * Parses {@code text} as one literal followed only by whitespace.
   *
   * @throws IllegalArgumentException "malformed header: ..." with the character position
   */
  static Object parse(String text) {
    PyLiteralParser p = new PyLiteralParser(text);
    Object value = p.value();
    p.skipSpace();
    if (p.pos < text.length()) {
      throw p.error("unexpected text after the literal");
    }
    return value;
  }

  private Object value() {
    skipSpace();
    if (pos >= text.length()) {
      throw error("unexpected end");
    }
    char c = text.charAt(pos);
    switch (c) {
      case '{':
        return dict();
      case '(':
        return new Tuple(sequence('(', ')'));
      case '[':
        return sequence('[', ']');
      case '\'':
      case '"':
        return string();
      default:
        if (c == '-' || c == '+' || Character.isDigit(c)) {
          return integer();
        }
        if (Character.isLetter(c)) {
          return name();
        }
        throw error("unexpected character '" + c + "'");
    }
  }

  private Map<String, Object> dict() {
    pos++;
    Map<String, Object> map = new LinkedHashMap<>();
    while (true) {
      skipSpace();
      if (peek() == '}') {
        pos++;
        return map;
      }
      Object key = value();
      if (!(key instanceof String k)) {
        throw error("dict key must be a string, got " + key);
      }
      skipSpace();
      expect(':');
      map.put(k, value());
      skipSpace();
      if (peek() == ',') {
        pos++;
      } else if (peek() != '}') {
        throw error("expected ',' or '}'");
      }
    }
  }

  private List<Object> sequence(char open, char close) {
    pos++;
    List<Object> items = new ArrayList<>();
    while (true) {
      skipSpace();
      if (peek() == close) {
        pos++;
        return items;
      }
      items.add(value());
      skipSpace();
      if (peek() == ',') {
        pos++;
      } else if (peek() != close) {
        throw error("expected ',' or '" + close + "' after an element of " + open + "...");
      }
    }
  }

  private String string() {
    char quote = text.charAt(pos++);
    StringBuilder sb = new StringBuilder();
    while (pos < text.length()) {
      char c = text.charAt(pos++);
      if (c == quote) {
        return sb.toString();
      }
      if (c == '\\' && pos < text.length()) {
        c = text.charAt(pos++);
      }
      sb.append(c);
    }
    throw error("unterminated string");
  }

  private Long integer() {
    int start = pos;
    if (peek() == '-' || peek() == '+') {
      pos++;
    }
    while (pos < text.length() && Character.isDigit(text.charAt(pos))) {
      pos++;
    }
    // Python 2 era writers appended 'L' to longs.
    String digits = text.substring(start, pos);
    if (pos < text.length() && (text.charAt(pos) == 'L' || text.charAt(pos) == 'l')) {
      pos++;
    }
    try {
      return Long.parseLong(digits.startsWith("+") ? digits.substring(1) : digits);
    } catch (NumberFormatException e) {
      pos = start;
      throw error("bad integer '" + digits + "'");
    }
  }

  private Object name() {
    int start = pos;
    while (pos < text.length() && Character.isLetterOrDigit(text.charAt(pos))) {
      pos++;
    }
    String word = text.substring(start, pos);
    switch (word) {
      case "True":
        return Boolean.TRUE;
      case "False":
        return Boolean.FALSE;
      case "None":
        return NONE;
      default:
        pos = start;
        throw error("unknown name '" + word + "'");
    }
  }

  private void expect(char c) {
    if (peek() != c) {
      throw error("expected '" + c + "'");
    }
    pos++;
  }

  private char peek() {
    return pos < text.length() ? text.charAt(pos) : '\0';
  }

  private void skipSpace() {
    while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
      pos++;
    }
  }

  private IllegalArgumentException error(String what) {
    return new IllegalArgumentException("malformed header: " + what + " at character " + pos);
  }
}
