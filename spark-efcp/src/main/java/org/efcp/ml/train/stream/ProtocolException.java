package org.efcp.ml.train.stream;

/** A frame that breaks {@link StreamProtocol}: its connection is closed. */
final class ProtocolException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  ProtocolException(String message) {
    super(message);
  }
}
