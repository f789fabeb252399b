package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every {@code Kernel.launch} in efcp-core's main sources passes as many kernel arguments as the kernel it launches
 * declares, of the declared kinds where the source shows them. A wrong count or kind is no error on the device (the
 * driver copies whatever the parameter buffer holds), and nothing else here would notice: the emulation harnesses
 * call the kernels from C++. The kernels' parameter lists come from PTX that nvcc generates from the rapids-kernels
 * sources (skipped where nvcc is missing); a launch's arguments are read from the Java source (those after the
 * stream, grid, block and shared-memory arguments).
 *
 * <p>A launch whose receiver is a field assigned {@code ….kernel("name")} in the same file is checked against that
 * kernel ({@code "prefix_" + …} names against every kernel with that prefix, names such as {@code "nt"} built by a
 * helper against every kernel named with that word; a field assigned in several places against each of their
 * kernels); a launch through a parameter must fit every kernel of its file. Every assigned name must match a kernel,
 * every launch must be matched, and every kernel reached by a checked launch. Arguments whose Java type the source
 * shows (a cast or a literal: {@code (double) m}, {@code 0.0}, {@code 1}, {@code 8L}) must have the parameter's PTX
 * width and kind (Kernel.launch passes an Integer as 4 bytes, a Long as 8, a Double as an f64).
 */
class KernelLaunchArityTest {
  private static final Pattern ENTRY = Pattern.compile("\\.entry\\s+(\\w+)\\s*\\(([^)]*)\\)");
  private static final Pattern PARAM = Pattern.compile("\\.param\\s+\\.(\\w+)");
  private static final Pattern DOUBLE =
      Pattern.compile("\\(double\\).*|-?\\d+\\.\\d*([eE][-+]?\\d+)?|-?\\d+[eE][-+]?\\d+");
  private static final Pattern INT = Pattern.compile("-?\\d+");
  private static final Pattern LONG = Pattern.compile("\\(long\\).*|-?\\d+L");
  private static final Pattern ASSIGNMENT =
      Pattern.compile("(?:this\\.)?(\\w+)\\s*=\\s*[\\w.()\"]*?\\.kernel\\(\\s*(?:\\w+\\.kernel\\()?\"(\\w+)\"");
  private static final Pattern LAUNCH = Pattern.compile("\\b(\\w+)\\.launch\\(");
  /** Kernels efcp-core does not launch (rapids-kernels' own tests do). */
  private static final Set<String> LAUNCHED_ELSEWHERE = Set.of("efcp_fill_f32", "efcp_fill_f64");
  /** stream, gridX, gridY, blockX, blockY, sharedBytes. */
  private static final int LAUNCH_CONFIG_ARGUMENTS = 6;

  @TempDir
  Path dir;

  @Test
  void everyLaunchPassesTheKernelsParameters() throws Exception {
    Map<String, List<String>> signatures = kernelSignatures();
    Map<String, Integer> parameters = new HashMap<>();
    signatures.forEach((k, types) -> parameters.put(k, types.size()));
    Path main = sourceRoot();
    List<String> problems = new ArrayList<>();
    Set<String> launched = new TreeSet<>();
    try (Stream<Path> files = Files.walk(main)) {
      for (Path file : files.filter(p -> p.toString().endsWith(".java")).toList()) {
        String source = stripComments(Files.readString(file));
        Map<String, List<String>> fieldKernels = new HashMap<>();
        Matcher a = ASSIGNMENT.matcher(source);
        while (a.find()) {
          List<String> named = matching(a.group(2), parameters);
          if (named.isEmpty()) {
            problems.add(main.relativize(file) + ": " + a.group(1) + " is assigned kernel \"" + a.group(2)
                + "\", which no source declares");
          }
          // A field assigned in several branches (GpuMfacCholeskyState's step) may hold any of their kernels.
          fieldKernels.merge(a.group(1), named, (x, y) -> Stream.concat(x.stream(), y.stream()).distinct().toList());
        }
        Matcher l = LAUNCH.matcher(source);
        while (l.find()) {
          String receiver = l.group(1);
          List<String> args = arguments(source, l.end());
          int passed = args.size() - LAUNCH_CONFIG_ARGUMENTS;
          List<String> kernels = fieldKernels.get(receiver);
          if (kernels == null) {
            kernels = fieldKernels.values().stream().flatMap(List::stream).distinct().toList();
          }
          String where = main.relativize(file) + ": " + receiver + ".launch";
          if (kernels.isEmpty()) {
            problems.add(where + " launches no kernel this test can name");
            continue;
          }
          for (String k : kernels) {
            if (parameters.get(k) != passed) {
              problems.add(where + " passes " + passed + " arguments, kernel " + k + " declares " + parameters.get(k));
              continue;
            }
            List<String> types = signatures.get(k);
            for (int i = 0; i < passed; i++) {
              String arg = args.get(LAUNCH_CONFIG_ARGUMENTS + i);
              String expected = evidentType(arg);
              if (expected != null && !expected.contains(types.get(i))) {
                problems.add(where + " argument " + i + " (" + arg + ") is " + expected + ", kernel " + k
                    + " declares ." + types.get(i));
              }
            }
          }
          launched.addAll(kernels);
        }
      }
    }
    assertEquals(List.of(), problems);
    Set<String> unlaunched = new TreeSet<>(signatures.keySet());
    unlaunched.removeAll(launched);
    assertEquals(LAUNCHED_ELSEWHERE, unlaunched, "kernels no checked launch reaches");
  }

  /** The PTX parameter types a Java argument may have when the source shows its type, else null. */
  private static String evidentType(String arg) {
    if (DOUBLE.matcher(arg).matches()) {
      return "f64";
    }
    if (LONG.matcher(arg).matches()) {
      return "u64 s64 b64";
    }
    if (INT.matcher(arg).matches()) {
      return "u32 s32 b32";
    }
    return null;
  }

  /** Kernel name → its parameters' PTX types, from PTX of every rapids-kernels source. */
  private Map<String, List<String>> kernelSignatures() throws IOException, InterruptedException {
    Path cuda = KernelEmulation.kernelSources();
    List<String> command = new ArrayList<>(List.of("nvcc", "-ptx", "-arch=compute_90", "-I", cuda.toString(),
        "-odir", dir.toString()));
    try (Stream<Path> sources = Files.list(cuda)) {
      sources.filter(p -> p.toString().endsWith(".cu")).sorted().forEach(p -> command.add(p.toString()));
    }
    Process p;
    try {
      p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("nvcc.log").toFile())
          .start();
    } catch (IOException e) {
      assumeTrue(false, "nvcc is not available: " + e.getMessage());
      throw e;
    }
    assertTrue(p.waitFor(300, TimeUnit.SECONDS), "nvcc -ptx did not finish");
    assertEquals(0, p.exitValue(), "nvcc -ptx failed: " + Files.readString(dir.resolve("nvcc.log")));
    Map<String, List<String>> signatures = new LinkedHashMap<>();
    try (Stream<Path> ptx = Files.list(dir)) {
      for (Path file : ptx.filter(f -> f.toString().endsWith(".ptx")).toList()) {
        Matcher m = ENTRY.matcher(Files.readString(file));
        while (m.find()) {
          List<String> types = new ArrayList<>();
          Matcher param = PARAM.matcher(m.group(2));
          while (param.find()) {
            types.add(param.group(1));
          }
          signatures.put(m.group(1), types);
        }
      }
    }
    return signatures;
  }

  /** The kernels a {@code .kernel("literal" …)} call may name (see the class comment). */
  private static List<String> matching(String literal, Map<String, ?> parameters) {
    if (parameters.containsKey(literal)) {
      return List.of(literal);
    }
    List<String> prefixed = parameters.keySet().stream().filter(k -> k.startsWith(literal)).toList();
    if (!prefixed.isEmpty()) {
      return prefixed;
    }
    return parameters.keySet().stream().filter(k -> List.of(k.split("_")).contains(literal)).toList();
  }

  /** The top-level, comma-separated arguments of the call whose '(' ends just before {@code from}. */
  private static List<String> arguments(String source, int from) {
    List<String> out = new ArrayList<>();
    int depth = 0;
    int start = from;
    boolean quoted = false;
    for (int i = from; i < source.length(); i++) {
      char c = source.charAt(i);
      if (quoted) {
        quoted = c != '"' || source.charAt(i - 1) == '\\';
      } else if (c == '"') {
        quoted = true;
      } else if (c == '(' || c == '[' || c == '{') {
        depth++;
      } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
        depth--;
      } else if (c == ')') {
        out.add(source.substring(start, i).trim());
        return out;
      } else if (c == ',' && depth == 0) {
        out.add(source.substring(start, i).trim());
        start = i + 1;
      }
    }
    throw new IllegalStateException("unterminated launch call at offset " + from);
  }

  private static String stripComments(String source) {
    return source.replaceAll("(?s)/\\*.*?\\*/", " ").replaceAll("//[^\n]*", " ");
  }

  private static Path sourceRoot() {
    for (String candidate : new String[] {"src/main/java", "efcp-core/src/main/java"}) {
      Path p = Path.of(candidate).toAbsolutePath().normalize();
      if (Files.isDirectory(p.resolve("org/efcp/optim/gpu"))) {
        return p;
      }
    }
    throw new IllegalStateException("cannot find efcp-core/src/main/java from " + Path.of("").toAbsolutePath());
  }
}
