package org.efcp.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;

class JsonLineTest {

  @Test
  void writesKeysInOrderWithEscapesNullsAndNumbers() {
    String line = new JsonLine().put("s", "a\"b\\c\nd\u0001").put("n", 42L).put("x", 0.125).put("tiny", 1e-9)
        .put("nan", Double.NaN).putNull("none").put("str", (String) null).toString();
    assertEquals("{\"s\":\"a\\\"b\\\\c\\nd\\u0001\",\"n\":42,\"x\":0.125,\"tiny\":1.0E-9,\"nan\":null,"
        + "\"none\":null,\"str\":null}", line);
    Map<String, Object> parsed = CliFixtures.parseFlatJson(line);
    assertEquals("a\"b\\c\nd\u0001", parsed.get("s"));
    assertEquals(1e-9, parsed.get("tiny"));
  }

  @Test
  void emptyObject() {
    assertEquals("{}", new JsonLine().toString());
  }
}
