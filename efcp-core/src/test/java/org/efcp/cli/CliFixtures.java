package org.efcp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/** Shared helpers of the CLI tests: running the CLI in-process, raw .npy files, bit comparisons, flat JSON. */
final class CliFixtures {
  private CliFixtures() {}

  /** What one CLI run produced. */
  record Result(int code, String out, String err) {
    /** The stderr lines (each println ends one). */
    List<String> errLines() {
      return err.isEmpty() ? List.of() : List.of(err.split("\n"));
    }

    /** Asserts exit code 2 and exactly one stderr line starting "efcp: error:" that contains every fragment. */
    void assertBadInput(String... fragments) {
      assertEquals(2, code, () -> "exit code; stderr: " + err);
      assertEquals(1, errLines().size(), () -> "stderr lines: " + err);
      String line = errLines().get(0);
      assertTrue(line.startsWith("efcp: error: "), line);
      for (String f : fragments) {
        assertTrue(line.contains(f), () -> "'" + f + "' not in: " + line);
      }
    }
  }

  /** Runs {@link EfcpCli#run} in-process, capturing stdout and stderr. */
  static Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = EfcpCli.run(args, o, e);
    }
    return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  /** The files in {@code dir} (to check that no output or temporary file was left behind). */
  static List<String> listing(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  /** Asserts that the two rows hold the same doubles bit for bit (so -0.0 ≠ 0.0). */
  static void assertBitEqual(double[] expected, double[] actual, String what) {
    assertEquals(expected.length, actual.length, what + " length");
    for (int i = 0; i < expected.length; i++) {
      assertEquals(Double.doubleToRawLongBits(expected[i]), Double.doubleToRawLongBits(actual[i]),
          what + " [" + i + "]");
    }
  }

  /** {@link #assertBitEqual(double[], double[], String)} row by row. */
  static void assertBitEqual(double[][] expected, double[][] actual) {
    assertEquals(expected.length, actual.length, "rows");
    for (int t = 0; t < expected.length; t++) {
      assertBitEqual(expected[t], actual[t], "row " + t);
    }
  }

  // ---- raw .npy bytes, independent of org.efcp.io ----

  /** A version-1.0 .npy file with the given header dict text and little-endian data. */
  static void writeNpy(Path p, String dict, byte[] data) throws IOException {
    byte[] text = (dict + "\n").getBytes(StandardCharsets.ISO_8859_1);
    ByteBuffer b = ByteBuffer.allocate(10 + text.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) text.length);
    Files.write(p, b.put(text).put(data).array());
  }

  static void writeFloat64(Path p, double[][] m) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(8 * m.length * m[0].length).order(ByteOrder.LITTLE_ENDIAN);
    for (double[] row : m) {
      for (double x : row) {
        b.putDouble(x);
      }
    }
    writeMatrix(p, "<f8", m.length, m[0].length, b);
  }

  static void writeFloat32(Path p, float[][] m) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(4 * m.length * m[0].length).order(ByteOrder.LITTLE_ENDIAN);
    for (float[] row : m) {
      for (float x : row) {
        b.putFloat(x);
      }
    }
    writeMatrix(p, "<f4", m.length, m[0].length, b);
  }

  private static void writeMatrix(Path p, String descr, int rows, int cols, ByteBuffer data) throws IOException {
    writeNpy(p, "{'descr': '" + descr + "', 'fortran_order': False, 'shape': (" + rows + ", " + cols + "), }",
        data.array());
  }

  /** Reads a float64 C-order .npy file written by the CLI (data starts after the 64-aligned header). */
  static double[][] readFloat64(Path p) throws IOException {
    byte[] bytes = Files.readAllBytes(p);
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    int headerLength = b.getShort(8) & 0xffff;
    String header = new String(bytes, 10, headerLength, StandardCharsets.ISO_8859_1);
    assertTrue(header.contains("'descr': '<f8'") && header.contains("'fortran_order': False"), header);
    String shape = header.substring(header.indexOf("'shape': (") + 10, header.indexOf(')'));
    String[] dims = shape.split(",");
    int rows = Integer.parseInt(dims[0].trim());
    int cols = Integer.parseInt(dims[1].trim());
    assertEquals(bytes.length, 10 + headerLength + 8L * rows * cols, "file length");
    double[][] m = new double[rows][cols];
    b.position(10 + headerLength);
    for (double[] row : m) {
      for (int i = 0; i < cols; i++) {
        row[i] = b.getDouble();
      }
    }
    return m;
  }

  /** Deterministic test gradients with varied magnitudes: g[t][i] = sin(1 + 7t + 3i)·(1 + i mod 5). */
  static double[][] gradients(int rows, int cols) {
    double[][] g = new double[rows][cols];
    for (int t = 0; t < rows; t++) {
      for (int i = 0; i < cols; i++) {
        g[t][i] = Math.sin(1 + 7 * t + 3 * i) * (1 + i % 5);
      }
    }
    return g;
  }

  // ---- flat JSON ----

  /**
   * Parses one flat JSON object of strings, numbers and nulls (what bench prints) strictly; numbers become
   * Double, null becomes a null value.
   */
  static Map<String, Object> parseFlatJson(String line) {
    Map<String, Object> map = new LinkedHashMap<>();
    int[] pos = {0};
    expect(line, pos, '{');
    skip(line, pos);
    if (line.charAt(pos[0]) == '}') {
      pos[0]++;
    } else {
      while (true) {
        skip(line, pos);
        String key = string(line, pos);
        skip(line, pos);
        expect(line, pos, ':');
        skip(line, pos);
        Object value;
        char c = line.charAt(pos[0]);
        if (c == '"') {
          value = string(line, pos);
        } else if (line.startsWith("null", pos[0])) {
          pos[0] += 4;
          value = null;
        } else {
          int start = pos[0];
          while (pos[0] < line.length() && "+-0123456789.eE".indexOf(line.charAt(pos[0])) >= 0) {
            pos[0]++;
          }
          String num = line.substring(start, pos[0]);
          if (!num.matches("-?(0|[1-9][0-9]*)(\\.[0-9]+)?([eE][+-]?[0-9]+)?")) {
            throw new IllegalArgumentException("not a JSON number: " + num);
          }
          value = Double.parseDouble(num);
        }
        if (map.containsKey(key)) {
          throw new IllegalArgumentException("duplicate key " + key);
        }
        map.put(key, value);
        skip(line, pos);
        if (line.charAt(pos[0]) == ',') {
          pos[0]++;
          continue;
        }
        expect(line, pos, '}');
        break;
      }
    }
    if (pos[0] != line.length()) {
      throw new IllegalArgumentException("text after the object: " + line.substring(pos[0]));
    }
    return map;
  }

  private static String string(String s, int[] pos) {
    expect(s, pos, '"');
    StringBuilder sb = new StringBuilder();
    while (s.charAt(pos[0]) != '"') {
      char c = s.charAt(pos[0]++);
      if (c == '\\') {
        char e = s.charAt(pos[0]++);
        switch (e) {
          case 'n' -> sb.append('\n');
          case 't' -> sb.append('\t');
          case 'r' -> sb.append('\r');
          case 'u' -> {
            sb.append((char) Integer.parseInt(s.substring(pos[0], pos[0] + 4), 16));
            pos[0] += 4;
          }
          default -> sb.append(e);
        }
      } else {
        sb.append(c);
      }
    }
    pos[0]++;
    return sb.toString();
  }

  private static void expect(String s, int[] pos, char c) {
    if (pos[0] >= s.length() || s.charAt(pos[0]) != c) {
      throw new IllegalArgumentException("expected '" + c + "' at " + pos[0] + " in " + s);
    }
    pos[0]++;
  }

  private static void skip(String s, int[] pos) {
    while (pos[0] < s.length() && s.charAt(pos[0]) == ' ') {
      pos[0]++;
    }
  }
}
