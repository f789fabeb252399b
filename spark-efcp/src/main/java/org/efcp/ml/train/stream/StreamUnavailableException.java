package org.efcp.ml.train.stream;

/**
 * The stream engine could not get all its tasks running (no free slot for each, a barrier-incompatible RDD
 * chain, a stage that failed before every task connected); everything it started is already released.
 */
public final class StreamUnavailableException extends Exception {
  private static final long serialVersionUID = 1L;

  StreamUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
