package org.efcp.io;

import java.io.IOException;

/**
 * A file that is missing, is not a NumPy {@code .npy} file, or holds an array this package does not read
 * (dtype, memory order, rank, truncated data). The message starts with the file path and names the problem.
 */
public class NpyFormatException extends IOException {
  private static final long serialVersionUID = 1L;

  public NpyFormatException(String message) {
    super(message);
  }
}
