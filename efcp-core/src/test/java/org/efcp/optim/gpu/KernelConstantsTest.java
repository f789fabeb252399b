package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * The Java constants that mirror a kernel's compile-time sizes have the values the CUDA sources define: a mismatch
 * launches the wrong block size or admits a window the kernels do not handle, and no device reports either. The
 * {@code #define}s are read from {@code rapids-kernels/src/main/cuda} (integer expressions of literals and other
 * defines).
 */
class KernelConstantsTest {
  private static final Pattern DEFINE = Pattern.compile("(?m)^#define\\s+(\\w+)\\s+([^\\n]+)$");
  private static final Pattern TOKEN = Pattern.compile("\\s*(\\d+|\\w+|<<|[-+*/()])");
  /** Operators by precedence, loosest first. */
  private static final List<List<String>> LEVELS = List.of(List.of("<<"), List.of("+", "-"), List.of("*", "/"));

  @Test
  void javaMirrorsOfKernelSizesMatchTheSources() throws IOException {
    Map<String, String> defines = defines();
    assertEquals(define(defines, "MCHOL_THREADS"), GpuMfacCholeskyState.STEP_THREADS, "STEP_THREADS");
    assertEquals(define(defines, "SM_THREADS"), KernelGrid.THREADS, "KernelGrid.THREADS");
    assertEquals(define(defines, "LR_MAX_RANK"), GpuLowRankMfacPipeline.MAX_RANK, "MAX_RANK");
    assertEquals(define(defines, "GGT_MAX_M"), GpuGgtPipeline.MAX_WINDOW, "GpuGgtPipeline.MAX_WINDOW");
    assertEquals(define(defines, "GGT_MAX_SWEEPS"), GpuGgtPipeline.MAX_SWEEPS, "MAX_SWEEPS");
    assertEquals(define(defines, "DM_ROWS"), GpuDenseWindow.TILE_ROWS, "GpuDenseWindow.TILE_ROWS");
    assertEquals(define(defines, "DM_CHUNK4"), GpuDenseWindow.CHUNK4, "GpuDenseWindow.CHUNK4");
    assertEquals(define(defines, "DM_ROWS_PER_BLOCK"), GpuDenseWindow.ROWS_PER_BLOCK, "GpuDenseWindow.ROWS_PER_BLOCK");
    assertEquals(define(defines, "DM_COMBINE_COLUMNS"), GpuDenseWindow.COMBINE_FLOAT4_PER_BLOCK,
        "GpuDenseWindow.COMBINE_FLOAT4_PER_BLOCK");
  }

  /** The m×m step's largest window is the largest instantiated C times the block (mchol_step_C, mchol_wave_C). */
  @Test
  void theCholeskyStepsLargestWindowIsItsLargestInstance() throws IOException {
    String source = Files.readString(KernelEmulation.kernelSources().resolve("mfac_cholesky.cu"));
    Matcher use = Pattern.compile("(?m)^MCHOL_KERNELS\\((\\d+)\\)$").matcher(source);
    int largest = 0;
    while (use.find()) {
      largest = Math.max(largest, Integer.parseInt(use.group(1)));
    }
    assertTrue(largest > 0, "no MCHOL_KERNELS(C) in mfac_cholesky.cu");
    assertEquals(largest * define(defines(), "MCHOL_THREADS"), GpuMfacCholeskyState.MAX_WINDOW, "MAX_WINDOW");
  }

  /** Every object-like {@code #define} of the sources: name → its text (the first definition). */
  private static Map<String, String> defines() throws IOException {
    Map<String, String> out = new HashMap<>();
    try (Stream<Path> files = Files.list(KernelEmulation.kernelSources())) {
      for (Path f : files.filter(p -> p.toString().endsWith(".cu") || p.toString().endsWith(".cuh")).toList()) {
        Matcher d = DEFINE.matcher(Files.readString(f));
        while (d.find()) {
          out.putIfAbsent(d.group(1), d.group(2).replaceAll("//.*", "").strip());
        }
      }
    }
    return out;
  }

  /** The value of define {@code name}: << + − * / and parentheses over integers and other defines. */
  private static int define(Map<String, String> defines, String name) {
    String text = defines.get(name);
    assertTrue(text != null, "no #define " + name + " in the kernel sources");
    List<String> tokens = TOKEN.matcher(text).results().map(r -> r.group(1)).toList();
    assertEquals(text.replaceAll("\\s", ""), String.join("", tokens), "#define " + name + " is not an expression");
    int[] at = {0};
    int value = binary(defines, tokens, at, 0);
    assertEquals(tokens.size(), at[0], "#define " + name + " " + text);
    return value;
  }

  /** The operands joined by operators of {@code level} and tighter, left to right. */
  private static int binary(Map<String, String> defines, List<String> t, int[] at, int level) {
    if (level == LEVELS.size()) {
      return atom(defines, t, at);
    }
    int v = binary(defines, t, at, level + 1);
    while (at[0] < t.size() && LEVELS.get(level).contains(t.get(at[0]))) {
      String op = t.get(at[0]++);
      int w = binary(defines, t, at, level + 1);
      v = switch (op) {
        case "<<" -> v << w;
        case "+" -> v + w;
        case "-" -> v - w;
        case "*" -> v * w;
        default -> v / w;
      };
    }
    return v;
  }

  private static int atom(Map<String, String> defines, List<String> t, int[] at) {
    String token = t.get(at[0]++);
    if (token.equals("(")) {
      int v = binary(defines, t, at, 0);
      assertEquals(")", t.get(at[0]++), "unbalanced parentheses");
      return v;
    }
    return Character.isDigit(token.charAt(0)) ? Integer.parseInt(token) : define(defines, token);
  }
}
