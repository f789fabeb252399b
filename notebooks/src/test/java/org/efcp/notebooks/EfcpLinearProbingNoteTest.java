package org.efcp.notebooks;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Runs the Zeppelin note {@code zeppelin/efcp-linear-probing.zpln} paragraph by paragraph through a Scala REPL set
 * up like Zeppelin's Spark interpreter ({@link SparkScalaRepl}): {@code %spark} paragraphs as Scala,
 * {@code %spark.sql} paragraphs through {@code spark.sql}, {@code %md} skipped. A failing paragraph fails the test.
 */
class EfcpLinearProbingNoteTest {

  private static SparkScalaRepl repl;

  @BeforeAll
  static void startRepl() throws Exception {
    String classpath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    repl = new SparkScalaRepl(classpath, Path.of("target", "zeppelin-repl-classes"));
  }

  @AfterAll
  static void stopRepl() {
    repl.close();
  }

  @Test
  void aParagraphThatFailsToCompileOrThrowsFailsAndTheNextOneStillRuns() {
    AssertionError compile = assertThrows(AssertionError.class, () -> repl.run("val n: Int = \"one\""));
    assertTrue(compile.getMessage().contains("type mismatch"), compile.getMessage());
    AssertionError thrown = assertThrows(AssertionError.class,
        () -> repl.run("spark.range(3).map(i => 1 / (i - i)).collect()"));
    assertTrue(thrown.getMessage().contains("ArithmeticException"), thrown.getMessage());
    assertTrue(repl.run("println(spark.range(4).map(i => i * i).collect().sum)").contains("14"));
  }

  @Test
  void everyParagraphRunsAndTheProbeBeatsChanceWithLessOptimizerMemoryThanDense() throws Exception {
    JsonNode note = new ObjectMapper().readTree(Path.of("zeppelin", "efcp-linear-probing.zpln").toFile());
    StringBuilder printed = new StringBuilder();
    int ran = 0;
    for (JsonNode paragraph : note.get("paragraphs")) {
      String text = paragraph.get("text").asText();
      String magic = text.startsWith("%") ? text.substring(0, text.indexOf('\n')).trim() : "%spark";
      String body = text.startsWith("%") ? text.substring(text.indexOf('\n') + 1) : text;
      String output = switch (magic) {
        case "%md" -> "";
        case "%spark", "%spark.spark" -> repl.run(body);
        case "%spark.sql", "%sql" -> {
          assertFalse(body.contains("\"\"\""), "SQL paragraphs must not contain triple quotes");
          yield repl.run("spark.sql(\"\"\"" + body + "\"\"\").show(1000, false)");
        }
        default -> fail("paragraph '" + paragraph.get("title").asText() + "': interpreter " + magic
            + " is not run by this test (only %spark, %spark.sql and %md)");
      };
      if (!magic.equals("%md")) {
        ran++;
      }
      printed.append(output);
    }
    String out = printed.toString();
    assertTrue(ran >= 5, ran + " paragraphs ran");
    // 100 classes: chance is 0.01.
    double accuracy = number(out, "test accuracy ([0-9.]+)");
    assertTrue(accuracy > 0.3, "test accuracy " + accuracy);
    // Top-k at density 0.1 keeps a tenth of each window gradient (index + value): several times less than dense.
    double ratio = number(out, "sparse M-FAC holds ([0-9.]+)x less");
    assertTrue(ratio > 2, "dense/sparse optimizer memory " + ratio);
    assertTrue(out.contains("%table optimizer\tmemory (MB)\ttest accuracy\nsparse-mfac\t"), out);
  }

  private static double number(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertTrue(m.find(), "no match for '" + regex + "' in the paragraphs' output:\n" + text);
    return Double.parseDouble(m.group(1));
  }
}
