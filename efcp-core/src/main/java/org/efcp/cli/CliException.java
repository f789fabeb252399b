package org.efcp.cli;

/** Bad command-line input (or an input file the command cannot use): one "efcp: error:" line, exit code 2. */
final class CliException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  CliException(String message) {
    super(message);
  }
}
