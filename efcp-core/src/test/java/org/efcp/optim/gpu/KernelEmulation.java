package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import java.util.stream.Stream;

import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Builds and runs kernel harnesses on the CPU CUDA emulation (rapids-kernels' {@code src/test/emulation}: g++, the
 * blocks of a launch one at a time on one thread each, barriers for {@code __syncthreads} and the warp shuffles). A harness
 * {@code emulation/<name>.cpp} includes {@code harness.h} (the emulation, launch macros, file reading, exits) and the
 * real rapids-kernels sources it needs, and launches them as the Java pipeline does. Its files are little-endian, as
 * {@link #writeDoubles} writes them and {@link #readResult} reads them.
 *
 * <p>Where g++ can build and run them, harnesses carry AddressSanitizer and UndefinedBehaviorSanitizer: a kernel that
 * reads or writes past a device buffer or a shared array, or overflows a signed index, then fails its test with the
 * sanitizer's report instead of passing on whatever memory it touched (on the device such a kernel may pass, fault or
 * corrupt a neighbour depending on the allocation). GCC's null-pointer check is left off: it misfires on
 * {@code thread_local} objects such as the emulation's {@code threadIdx}.
 *
 * <p>A JUnit extension: a test class registers {@code @RegisterExtension static final KernelEmulation EMULATION =
 * KernelEmulation.of("name_harness")}; before its tests the harnesses are compiled in a temporary directory (the
 * class is skipped where g++ is missing, the only reason to skip), which is deleted after them.
 */
public final class KernelEmulation implements BeforeAllCallback, AfterAllCallback {
  /** Copied next to every harness from rapids-kernels' {@code src/test/emulation}: the emulation itself. */
  private static final String[] EMULATION_SOURCES = {"cuda_emulation.h", "cuda_emulation.cpp"};
  /** Copied next to every harness from the test resources: the harnesses' shared headers. */
  private static final String[] SHARED_SOURCES = {"harness.h", "topk_select.h", "dense_window.h", "mchol_launch.h"};
  private static final List<String> SANITIZERS =
      List.of("-fsanitize=address,undefined", "-fno-sanitize=null", "-fno-sanitize-recover=all");
  /** Whether g++ builds working sanitized programs here; decided once per JVM. */
  private static volatile Boolean sanitizersWork;

  private final List<String> harnesses;
  private final Map<String, Path> binaries = new HashMap<>();
  private Path dir;

  private KernelEmulation(List<String> harnesses) {
    this.harnesses = harnesses;
  }

  /** The extension that compiles {@code emulation/<name>.cpp} for each of {@code harnesses}. */
  public static KernelEmulation of(String... harnesses) {
    return new KernelEmulation(List.of(harnesses));
  }

  @Override
  public void beforeAll(ExtensionContext context) throws IOException, InterruptedException {
    assumeTrue(available(), "g++ is not available");
    dir = Files.createTempDirectory("kernel-emulation");
    probeSanitizers();
    for (String name : harnesses) {
      binaries.put(name, build(name));
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws IOException {
    if (dir != null) {
      try (Stream<Path> files = Files.walk(dir)) {
        for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(f);
        }
      }
    }
  }

  /** A file in the harnesses' working directory (their inputs and outputs). */
  public Path file(String name) {
    return dir.resolve(name);
  }

  /** Whether the harnesses are built with the sanitizers (see the class comment). */
  public static boolean sanitized() {
    return Boolean.TRUE.equals(sanitizersWork);
  }

  /** Runs harness {@code name} with {@code args}; fails the test (with its output) unless it exits with 0. */
  public void run(String name, Object... args) throws IOException, InterruptedException {
    runWith(Map.of(), name, args);
  }

  /** As {@link #run}, with {@code environment} added to the harness's environment (the emulation's settings). */
  public void runWith(Map<String, String> environment, String name, Object... args)
      throws IOException, InterruptedException {
    assertEquals(0, run(harnessCommand(name, args), environment, 180), name + " failed: " + log());
  }

  /** Runs harness {@code name} with {@code args}; fails the test if it exits with 0, else returns its output. */
  public String runExpectingFailure(String name, Object... args) throws IOException, InterruptedException {
    int rc = run(harnessCommand(name, args), Map.of(), 180);
    String output = log();
    assertTrue(rc != 0, name + " exited with 0, expected a failure; output: " + output);
    return output;
  }

  private List<String> harnessCommand(String name, Object... args) {
    List<String> command = new ArrayList<>();
    command.add(binaries.get(name).toString());
    for (Object a : args) {
      command.add(a.toString());
    }
    return command;
  }

  /**
   * Builds and runs a threaded program with {@link #SANITIZERS} once per JVM; where that fails (no libasan, or a
   * kernel whose address layout ASan cannot shadow) harnesses are built without them and one line says so.
   */
  private void probeSanitizers() throws IOException, InterruptedException {
    synchronized (KernelEmulation.class) {
      if (sanitizersWork != null) {
        return;
      }
      Path source = Files.writeString(dir.resolve("sanitizer_probe.cpp"),
          "#include <thread>\nthread_local int t;\nint main() { std::thread([] { t = 1; }).join(); return t; }\n");
      Path binary = dir.resolve("sanitizer_probe");
      List<String> compile = new ArrayList<>(List.of("g++", "-std=c++20", "-pthread"));
      compile.addAll(SANITIZERS);
      compile.addAll(List.of("-o", binary.toString(), source.toString()));
      sanitizersWork = run(compile, Map.of(), 180) == 0 && run(List.of(binary.toString()), Map.of(), 60) == 0;
      if (!sanitizersWork) {
        System.err.println("KernelEmulation: g++ cannot build and run sanitized programs here, harnesses are built"
            + " without " + String.join(" ", SANITIZERS) + ": " + log().lines().findFirst().orElse(""));
      }
    }
  }

  private static boolean available() throws InterruptedException {
    try {
      Process p = new ProcessBuilder("g++", "--version").redirectErrorStream(true)
          .redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    }
  }

  /** Compiles {@code emulation/<name>.cpp} with the emulation; returns the binary. Fails on a compile error. */
  private Path build(String name) throws IOException, InterruptedException {
    for (String source : EMULATION_SOURCES) {
      Files.copy(kernelSources().resolve("../../test/emulation").resolve(source), dir.resolve(source),
          StandardCopyOption.REPLACE_EXISTING);
    }
    List<String> resources = new ArrayList<>(List.of(SHARED_SOURCES));
    resources.add(name + ".cpp");
    for (String resource : resources) {
      try (InputStream in = KernelEmulation.class.getResourceAsStream("emulation/" + resource)) {
        assertTrue(in != null, "missing test resource emulation/" + resource);
        Files.copy(in, dir.resolve(resource), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Path binary = dir.resolve(name);
    List<String> compile = new ArrayList<>(List.of("g++", "-std=c++20", "-O2", "-ffp-contract=off", "-pthread",
        "-Wno-unknown-pragmas"));
    if (sanitized()) {
      compile.addAll(SANITIZERS);
    }
    compile.addAll(List.of("-I", kernelSources().toString(), "-I", dir.toString(), "-o", binary.toString(),
        dir.resolve(name + ".cpp").toString(), dir.resolve("cuda_emulation.cpp").toString()));
    assertEquals(0, run(compile, Map.of(), 180), "g++ failed for " + name + ": " + log());
    return binary;
  }

  /** Writes the arrays one after another as little-endian doubles (a harness's input); returns {@code file}. */
  public static Path writeDoubles(Path file, List<double[]> arrays) throws IOException {
    ByteBuffer bytes = ByteBuffer.allocate(8 * arrays.stream().mapToInt(a -> a.length).sum())
        .order(ByteOrder.LITTLE_ENDIAN);
    for (double[] a : arrays) {
      for (double x : a) {
        bytes.putDouble(x);
      }
    }
    return Files.write(file, bytes.array());
  }

  /** Writes the gradients of steps 0 to {@code steps} − 1 as little-endian doubles; returns {@code file}. */
  public static Path writeGradients(Path file, int steps, IntFunction<double[]> gradient) throws IOException {
    return writeDoubles(file, IntStream.range(0, steps).mapToObj(gradient).toList());
  }

  /** A harness's output file, to be read in order (little-endian). */
  public static ByteBuffer readResult(Path file) throws IOException {
    return ByteBuffer.wrap(Files.readAllBytes(file)).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** The next {@code n} doubles of a harness's output. */
  public static double[] nextDoubles(ByteBuffer result, int n) {
    double[] x = new double[n];
    for (int i = 0; i < n; i++) {
      x[i] = result.getDouble();
    }
    return x;
  }

  /** The rapids-kernels CUDA sources, from the module directory (Maven's working directory) or the project root. */
  public static Path kernelSources() {
    for (String candidate : new String[] {"../rapids-kernels/src/main/cuda", "rapids-kernels/src/main/cuda"}) {
      Path p = Path.of(candidate).toAbsolutePath().normalize();
      if (Files.isRegularFile(p.resolve("sparse_mfac.cu"))) {
        return p;
      }
    }
    throw new IllegalStateException("cannot find rapids-kernels/src/main/cuda from " + Path.of("").toAbsolutePath());
  }

  private String log() throws IOException {
    Path log = dir.resolve("run.log");
    return Files.exists(log) ? Files.readString(log) : "(no output)";
  }

  /** Runs a command with its output in run.log; returns the exit code (-1 when it cannot start or times out). */
  private int run(List<String> command, Map<String, String> environment, int timeoutSeconds)
      throws InterruptedException {
    Path log = dir.resolve("run.log");
    Process p;
    try {
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
      builder.environment().putAll(environment);
      p = builder.start();
    } catch (IOException e) {
      try {
        Files.writeString(log, e.toString(), StandardCharsets.UTF_8);
      } catch (IOException ignored) {
        // The exit code already says it failed.
      }
      return -1;
    }
    if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return -1;
    }
    return p.exitValue();
  }
}
