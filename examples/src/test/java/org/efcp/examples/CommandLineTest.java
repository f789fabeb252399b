package org.efcp.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

class CommandLineTest {

  private static Map<String, String> defaults() {
    Map<String, String> d = new LinkedHashMap<>();
    d.put("--out", null);
    d.put("--train", "100");
    d.put("--noise", "1.5");
    d.put("--iters", "");
    return d;
  }

  private static CommandLine parse(String... args) {
    return CommandLine.parse(args, defaults());
  }

  @Test
  void givenValuesOverrideDefaultsAndDefaultsFillTheRest() {
    CommandLine cl = parse("--out", "dir", "--noise", "0.9");
    assertEquals("dir", cl.string("--out"));
    assertEquals(0.9, cl.nonNegativeDouble("--noise"), 0.0);
    assertEquals(100L, cl.positiveLong("--train"));
    assertEquals(0L, parse("--out", "d", "--train", "0").nonNegativeLong("--train"));
    assertEquals(List.of(), cl.positiveIntList("--iters"));
  }

  @Test
  void commaSeparatedListsKeepTheirOrder() {
    assertEquals(List.of(5, 10, 25), parse("--out", "d", "--iters", "5, 10,25").positiveIntList("--iters"));
  }

  @Test
  void everyProblemIsReportedUnderTheOptionName() {
    assertMessageStarts("--bogus", () -> parse("--out", "d", "--bogus", "1"));
    assertMessageStarts("--train", () -> parse("--out", "d", "--train"));
    assertMessageStarts("--out", () -> parse("--train", "5"));
    assertMessageStarts("--train", () -> parse("--out", "d", "--train", "ten").positiveLong("--train"));
    assertMessageStarts("--train", () -> parse("--out", "d", "--train", "0").positiveInt("--train"));
    assertMessageStarts("--train", () -> parse("--out", "d", "--train", "3000000000").positiveInt("--train"));
    assertMessageStarts("--train", () -> parse("--out", "d", "--train", "-1").nonNegativeLong("--train"));
    assertMessageStarts("--train", () -> parse("--out", "d", "--train", "1.5").nonNegativeLong("--train"));
    assertMessageStarts("--noise", () -> parse("--out", "d", "--noise", "-1").nonNegativeDouble("--noise"));
    assertMessageStarts("--noise", () -> parse("--out", "d", "--noise", "NaN").nonNegativeDouble("--noise"));
    assertMessageStarts("--iters", () -> parse("--out", "d", "--iters", "5,x").positiveIntList("--iters"));
    assertMessageStarts("--iters", () -> parse("--out", "d", "--iters", "5,0").positiveIntList("--iters"));
  }

  private static void assertMessageStarts(String prefix, Executable call) {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
    assertTrue(e.getMessage().startsWith(prefix + ":"), e.getMessage());
  }
}
