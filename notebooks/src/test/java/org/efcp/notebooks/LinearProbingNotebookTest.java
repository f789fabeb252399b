package org.efcp.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/**
 * Executes {@code linear-probing.ipynb} headless, as a user's Jupyter would: Debian's python3-nbclient starts the
 * kernel spec the build wrote ({@code target/jupyter/kernels/efcp-java}: rapaio-jupyter-kernel with Spark and the
 * project's jars) and runs every cell; a failing cell fails the test. CI installs nbclient (.ci/run).
 */
class LinearProbingNotebookTest {

  /** Debian's interpreter: python3-nbclient installs into its dist-packages, not into other Pythons on PATH. */
  private static final String PYTHON = "/usr/bin/python3";
  private static final long TIMEOUT_MINUTES = 8;

  @Test
  void everyCellRunsAndTheProbeBeatsChanceWithLessOptimizerMemoryThanDense() throws Exception {
    Path work = Files.createDirectories(Path.of("target", "notebook-run").toAbsolutePath());
    Path executed = work.resolve("linear-probing.ipynb");
    Path log = work.resolve("nbclient.log");
    Files.deleteIfExists(executed);

    ProcessBuilder pb = new ProcessBuilder(PYTHON, "src/test/python/execute_notebook.py", "linear-probing.ipynb",
        executed.toString(), work.toString())
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
    Map<String, String> env = pb.environment();
    env.put("JUPYTER_PATH", Objects.requireNonNull(System.getProperty("jupyter.dir"), "jupyter.dir: set by the "
        + "notebooks pom"));
    env.put("JUPYTER_CONFIG_DIR", work.resolve("config").toString());
    env.put("JUPYTER_RUNTIME_DIR", work.resolve("runtime").toString());
    // The kernel JVM's (and so Spark's) temporary files stay under target/.
    env.put("JDK_JAVA_OPTIONS", "-Djava.io.tmpdir=" + work);
    Process process = startNbclient(pb);
    try {
      if (!process.waitFor(TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
        fail("the notebook did not finish in " + TIMEOUT_MINUTES + " minutes; log " + log + ":\n" + tail(log));
      }
      assertEquals(0, process.exitValue(), "nbclient failed (a failing cell, a kernel that did not answer, or no "
          + "python3-nbclient); log " + log + ":\n" + tail(log));
    } finally {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
    }

    JsonNode notebook = new ObjectMapper().readTree(executed.toFile());
    List<String> texts = new ArrayList<>();
    int images = 0;
    for (JsonNode cell : notebook.get("cells")) {
      if (!"code".equals(cell.get("cell_type").asText())) {
        continue;
      }
      assertTrue(cell.get("execution_count").isInt(), "cell " + cell.get("id") + " was not executed");
      for (JsonNode output : cell.get("outputs")) {
        assertTrue(!"error".equals(output.get("output_type").asText()), "cell " + cell.get("id") + " failed");
        if (output.has("text")) {
          texts.add(joined(output.get("text")));
        }
        if (output.has("data") && output.get("data").has("image/png")) {
          images++;
        }
      }
    }
    String stdout = String.join("", texts);
    assertEquals(4, images, "PNG plots: loss, cos(u, g), ||u||/||g||, sparse vs dense loss");
    // 100 classes: chance is 0.01.
    double accuracy = number(stdout, "test accuracy ([0-9.]+)");
    assertTrue(accuracy > 0.3, "test accuracy " + accuracy);
    // Top-k at density 0.1 keeps a tenth of each window gradient (index + value): several times less than dense.
    double ratio = number(stdout, "sparse M-FAC holds ([0-9.]+)x less");
    assertTrue(ratio > 2, "dense/sparse optimizer memory " + ratio);
  }

  private static Process startNbclient(ProcessBuilder pb) throws IOException {
    if (!new File(PYTHON).canExecute()) {
      fail(PYTHON + " not found: install Debian's python3-nbclient (apt-get install python3-nbclient), as .ci/run does");
    }
    return pb.start();
  }

  private static String joined(JsonNode text) {
    if (!text.isArray()) {
      return text.asText();
    }
    StringBuilder sb = new StringBuilder();
    text.forEach(line -> sb.append(line.asText()));
    return sb.toString();
  }

  private static double number(String text, String regex) {
    Matcher m = Pattern.compile(regex).matcher(text);
    assertTrue(m.find(), "no match for '" + regex + "' in the notebook's output:\n" + text);
    return Double.parseDouble(m.group(1));
  }

  private static String tail(Path log) throws IOException {
    List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
  }
}
