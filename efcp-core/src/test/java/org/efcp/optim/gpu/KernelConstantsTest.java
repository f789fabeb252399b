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

  @Test
  void javaMirrorsOfKernelSizesMatchTheSources() throws IOException {
    Map<String, String> defines = defines();
    assertEquals(define(defines, "MCHOL_THREADS"), GpuMfacCholeskyState.STEP_THREADS, "STEP_THREADS");
    assertEquals(define(defines, "SM_THREADS"), KernelGrid.THREADS, "KernelGrid.THREADS");
    assertEquals(define(defines, "LR_MAX_RANK"), GpuLowRankMfacPipeline.MAX_RANK, "MAX_RANK");
    assertEquals(define(defines, "GGT_MAX_M"), GpuGgtPipeline.MAX_WINDOW, "GpuGgtPipeline.MAX_WINDOW");
    assertEquals(define(defines, "GGT_MAX_SWEEPS"), GpuGgtPipeline.MAX_SWEEPS, "MAX_SWEEPS");
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

  /** The value of define {@code name}: + − * / << and parentheses over integers and other defines. */
  private static int define(Map<String, String> defines, String name) {
    String text = defines.get(name);
    assertTrue(text != null, "no #define " + name + " in the kernel sources");
    List<String> tokens = TOKEN.matcher(text).results().map(r -> r.group(1)).toList();
    assertEquals(text.replaceAll("\\s", ""), String.join("", tokens), "#define " + name + " is not an expression");
    int[] at = {0};
    int value = shift(defines, tokens, at);
    assertEquals(tokens.size(), at[0], "#define " + name + " " + text);
    return value;
  }

  private static int shift(Map<String, String> defines, List<String> t, int[] at) {
    int v = sum(defines, t, at);
    while (at[0] < t.size() && t.get(at[0]).equals("<<")) {
      at[0]++;
      v <<= sum(defines, t, at);
    }
    return v;
  }

  private static int sum(Map<String, String> defines, List<String> t, int[] at) {
    int v = product(defines, t, at);
    while (at[0] < t.size() && (t.get(at[0]).equals("+") || t.get(at[0]).equals("-"))) {
      boolean plus = t.get(at[0]++).equals("+");
      int w = product(defines, t, at);
      v = plus ? v + w : v - w;
    }
    return v;
  }

  private static int product(Map<String, String> defines, List<String> t, int[] at) {
    int v = atom(defines, t, at);
    while (at[0] < t.size() && (t.get(at[0]).equals("*") || t.get(at[0]).equals("/"))) {
      boolean times = t.get(at[0]++).equals("*");
      int w = atom(defines, t, at);
      v = times ? v * w : v / w;
    }
    return v;
  }

  private static int atom(Map<String, String> defines, List<String> t, int[] at) {
    String token = t.get(at[0]++);
    if (token.equals("(")) {
      int v = shift(defines, t, at);
      assertEquals(")", t.get(at[0]++), "unbalanced parentheses");
      return v;
    }
    return Character.isDigit(token.charAt(0)) ? Integer.parseInt(token) : define(defines, token);
  }
}
