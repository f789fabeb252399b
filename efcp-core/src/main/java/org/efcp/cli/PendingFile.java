package org.efcp.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

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
    return new PendingFile(abs, Files.createTempFile(dir, "." + abs.getFileName() + ".", ".tmp"));
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
