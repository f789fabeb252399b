package org.efcp.cli;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.concurrent.ThreadLocalRandom;

/**
 * An output file written under a temporary name in the target's directory and moved onto the target only by
 * {@link #commit()}; {@link #close()} deletes an uncommitted temporary. So a failed command leaves no partial
 * output behind and never clobbers an existing file, while a successful one replaces it atomically.
 */
final class PendingFile implements AutoCloseable {
  private final Path target;
  private final Path temp;
  private boolean committed;

  private PendingFile(Path target, Path temp) {
    this.target = target;
    this.temp = temp;
  }

  /**
   * Creates the temporary beside {@code target}.
   *
   * @param option the option that named the file, for messages
   * @throws CliException if the target is a directory or its directory does not exist
   */
  static PendingFile beside(Path target, String option) throws IOException {
    Path abs = target.toAbsolutePath();
    Path dir = abs.getParent();
    if (Files.isDirectory(abs)) {
      throw new CliException(option + ": " + target + " is a directory");
    }
    if (dir == null || !Files.isDirectory(dir)) {
      throw new CliException(option + ": directory " + dir + " does not exist");
    }
    return new PendingFile(abs, createBeside(dir, abs.getFileName().toString()));
  }

  /**
   * A new empty file {@code .NAME.RANDOM.tmp} in {@code dir}. Unlike {@link Files#createTempFile} (mode 600), it
   * gets the umask's permissions, so the committed output is as readable as any file the user writes.
   */
  private static Path createBeside(Path dir, String name) throws IOException {
    for (int attempt = 0; ; attempt++) {
      String suffix = Long.toUnsignedString(ThreadLocalRandom.current().nextLong(), 36);
      try {
        return Files.createFile(dir.resolve("." + name + "." + suffix + ".tmp"));
      } catch (FileAlreadyExistsException e) {
        if (attempt == 9) {
          throw e;
        }
      }
    }
  }

  /** Where to write. */
  Path temp() {
    return temp;
  }

  /** Moves the temporary onto the target, replacing any existing file. */
  void commit() throws IOException {
    try {
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (java.nio.file.AtomicMoveNotSupportedException e) {
      Files.move(temp, target, StandardCopyOption.REPLACE_EXISTING);
    }
    committed = true;
  }

  @Override
  public void close() throws IOException {
    if (!committed) {
      Files.deleteIfExists(temp);
    }
  }
}
