package org.efcp.cuda;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** The CUDA sources and committed fatbins of this module, as seen from a test. */
final class KernelSources {
  private static final Pattern KERNEL = Pattern.compile(
      "extern\\s+\"C\"\\s+__global__\\s+(?:__launch_bounds__\\s*\\([^)]*\\)\\s*)?void\\s+"
          + "(?:__launch_bounds__\\s*\\([^)]*\\)\\s*)?([\\w#]+)\\s*\\(");
  private static final Pattern COMMENT = Pattern.compile("//[^\\n]*|/\\*.*?\\*/", Pattern.DOTALL);
  /** A one-parameter macro (continuation lines already joined): name, parameter, body. */
  private static final Pattern MACRO = Pattern.compile("#define\\s+(\\w+)\\((\\w+)\\)([^\\n]*)");

  private KernelSources() {}

  /**
   * The module directory: the working directory under Maven, {@code rapids-kernels} under it when the
   * tests run from the project root (the device bundle).
   */
  static Path moduleDir() {
    for (Path p : List.of(Path.of("rapids-kernels"), Path.of("."))) {
      if (Files.isDirectory(p.resolve("src/main/cuda"))) {
        return p;
      }
    }
    throw new IllegalStateException("cannot find rapids-kernels/src/main/cuda from " + Path.of("").toAbsolutePath());
  }

  static Path cudaDir() {
    return moduleDir().resolve("src/main/cuda");
  }

  static Path committedDir() {
    return moduleDir().resolve("src/main/resources/org/efcp/cuda");
  }

  /** Files in {@code dir} whose names end with {@code suffix}, sorted by name. */
  static List<Path> files(Path dir, String suffix) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Module names: the .cu files without their extension. */
  static List<String> moduleNames() {
    List<String> names = new ArrayList<>();
    for (Path cu : files(cudaDir(), ".cu")) {
      String f = cu.getFileName().toString();
      names.add(f.substring(0, f.length() - 3));
    }
    return names;
  }

  /** The {@code extern "C" __global__} kernel names declared in module {@code name}'s source. */
  static List<String> kernelNames(String module) {
    String text;
    try {
      text = Files.readString(cudaDir().resolve(module + ".cu"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String code = COMMENT.matcher(text).replaceAll(" ").replaceAll("\\\\\\r?\\n", " ");
    List<String> names = new ArrayList<>();
    // Kernels a one-parameter macro declares (name_##C), once per use of the macro (mfac_cholesky.cu's steps).
    Matcher macro = MACRO.matcher(code);
    while (macro.find()) {
      Matcher k = KERNEL.matcher(macro.group(3));
      while (k.find()) {
        Matcher use = Pattern.compile("(?m)^\\s*" + macro.group(1) + "\\((\\w+)\\)").matcher(code);
        while (use.find()) {
          names.add(k.group(1).replaceAll("\\s*##\\s*" + macro.group(2) + "\\b", use.group(1)));
        }
      }
    }
    Matcher m = KERNEL.matcher(MACRO.matcher(code).replaceAll(" "));
    while (m.find()) {
      names.add(m.group(1));
    }
    return names;
  }
}
