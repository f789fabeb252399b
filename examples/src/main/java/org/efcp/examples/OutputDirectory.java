package org.efcp.examples;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A job's output directory on the driver's local file system, written all-or-nothing: the job writes into a
 * staging directory beside it ({@code .NAME.partial-<random>}) and {@link #commit()} renames that into place, so
 * the directory either holds a complete output or is left as it was. An existing directory is replaced only
 * when it is empty or a previous output (it holds {@link #MARKER}); anything else is refused, so a typo cannot
 * delete unrelated files.
 */
final class OutputDirectory {

  /** The file that marks a directory as a complete output of this job. */
  static final String MARKER = "metrics.json";

  private final String flag;
  private final Path target;
  private final Path staging;

  private OutputDirectory(String flag, Path target, Path staging) {
    this.flag = flag;
    this.target = target;
    this.staging = staging;
  }

  /**
   * Checks that {@code target} may be written, without creating anything.
   *
   * @param flag the option that named it, for messages
   * @throws IllegalArgumentException starting with {@code flag} when {@code target} is a file, or a non-empty
   *     directory without {@link #MARKER}
   */
  static OutputDirectory check(String flag, Path target) {
    Path abs = target.toAbsolutePath().normalize();
    if (abs.getParent() == null) {
      throw new IllegalArgumentException(flag + ": " + target + " cannot be an output directory");
    }
    if (Files.exists(abs)) {
      if (!Files.isDirectory(abs)) {
        throw new IllegalArgumentException(flag + ": " + target + " exists and is not a directory");
      }
      if (!isEmpty(abs) && !Files.isRegularFile(abs.resolve(MARKER))) {
        throw new IllegalArgumentException(flag + ": " + target + " exists, is not empty and holds no " + MARKER
            + " of an earlier run; remove it or choose another directory");
      }
    }
    Path staging = abs.resolveSibling("." + abs.getFileName() + ".partial-" + UUID.randomUUID());
    return new OutputDirectory(flag, abs, staging);
  }

  /** The directory to write into, created (with missing parents) on first call. */
  Path staging() throws IOException {
    Files.createDirectories(staging);
    return staging;
  }

  /** The final directory. */
  Path target() {
    return target;
  }

  /**
   * Moves the staging directory into place, replacing an earlier output (re-checked: the directory may have
   * changed while the job ran).
   */
  void commit() throws IOException {
    Path old = null;
    if (Files.exists(target)) {
      check(flag, target);
      old = target.resolveSibling("." + target.getFileName() + ".old-" + UUID.randomUUID());
      Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
    }
    Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
    if (old != null) {
      deleteTree(old);
    }
  }

  /** Deletes the staging directory and whatever was written to it; the target is untouched. */
  void discard() {
    try {
      deleteTree(staging);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static boolean isEmpty(Path dir) {
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
      return !entries.iterator().hasNext();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }
}
