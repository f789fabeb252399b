package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code examples/src/main/python/torch_gpu_baseline.py}, which only a GPU machine runs for real: it byte-compiles,
 * and {@code --cpu} either says in one line that there is no torch or passes its self-check on the CPU. Skipped
 * where python3 is not on the PATH.
 */
class TorchBaselineScriptTest {
  private static final Path SCRIPT = Path.of("..", "examples", "src", "main", "python", "torch_gpu_baseline.py")
      .toAbsolutePath().normalize();

  private record Result(int exitCode, String output) {}

  @BeforeAll
  static void needsPython() throws Exception {
    assumeTrue(run("python3", "--version").exitCode() == 0, "python3 is not on the PATH");
  }

  @Test
  void byteCompiles() throws Exception {
    Result r = run("python3", "-m", "py_compile", SCRIPT.toString());
    assertEquals(0, r.exitCode(), r.output());
  }

  @Test
  void cpuSelfCheckPassesOrSaysThereIsNoTorch() throws Exception {
    Result r = run("python3", SCRIPT.toString(), "--cpu");
    assertEquals(0, r.exitCode(), r.output());
    List<String> lines = r.output().lines().filter(l -> l.startsWith("{")).toList(); // not torch's warnings
    if (lines.equals(List.of("{\"bench\":\"torch_baseline\",\"skipped\":\"no torch\"}"))) {
      return;
    }
    // 2 kinds × 2 variants × 2 precisions, each within tolerance.
    assertEquals(8, lines.size(), r.output());
    for (String line : lines) {
      assertTrue(line.startsWith("{\"bench\":\"torch_self_check\"") && line.endsWith("\"ok\":true}"), line);
    }
  }

  /** Runs a command (stdout and stderr together; the byte code goes under target/, not beside the script). */
  private static Result run(String... command) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    pb.environment().put("PYTHONPYCACHEPREFIX", Path.of("target", "pycache").toAbsolutePath().toString());
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      return new Result(-1, e.getMessage());
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(List.of(command) + " did not finish in 120 s");
    }
    return new Result(p.exitValue(), out);
  }
}
