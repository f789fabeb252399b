package org.efcp.ml.train.stream;

/**
 * The stream engine's wire format. Every message is a frame: a little-endian int32 length L (the bytes that
 * follow, at least 1), then a type byte, then a payload whose length each type fixes exactly. Numbers are
 * little-endian (the byte order of the hosts, so float arrays copy without swapping).
 *
 * <pre>
 * HELLO  task → driver  token[32] partition:int32 numPartitions:int32 stageAttempt:int32 dimension:int32
 * STEP   driver → task  globalStep:int64 epoch:int32 step:int64 θ:float32[d]
 * SHARE  task → driver  globalStep:int64 loss:float64 weight:float64 rows:int64 gradient:float32[d]
 * STOP   driver → task  (nothing)
 * </pre>
 *
 * A connection must start with HELLO carrying the fit's secret token; until then the endpoint accepts no frame
 * longer than a HELLO. Afterwards a task sends only SHAREs, one per STEP, for the step it was sent.
 */
public final class StreamProtocol {
  public static final byte HELLO = 1;
  public static final byte STEP = 2;
  public static final byte SHARE = 3;
  public static final byte STOP = 4;

  /** Length of the per-fit secret, bytes. */
  public static final int TOKEN_BYTES = 32;
  /** Socket send and receive buffers of both ends: large frames move in fewer wake-ups. */
  public static final int SOCKET_BUFFER_BYTES = 4 << 20;
  /** Bytes of the length field. */
  public static final int LENGTH_BYTES = 4;

  public static final int HELLO_LENGTH = 1 + TOKEN_BYTES + 4 * 4;
  public static final int STOP_LENGTH = 1;
  /** Bytes of a STEP frame before θ (type included). */
  public static final int STEP_HEADER = 1 + 8 + 4 + 8;
  /** Bytes of a SHARE frame before the gradient (type included). */
  public static final int SHARE_HEADER = 1 + 8 + 8 + 8 + 8;

  private StreamProtocol() {}

  /** Frame length L of a STEP for d parameters. */
  public static int stepLength(int d) {
    return checked(STEP_HEADER, d);
  }

  /** Frame length L of a SHARE for d parameters. */
  public static int shareLength(int d) {
    return checked(SHARE_HEADER, d);
  }

  private static int checked(int header, int d) {
    long n = header + 4L * d;
    if (d < 0 || n > Integer.MAX_VALUE - LENGTH_BYTES) {
      throw new IllegalArgumentException("stepEngine: stream frames hold at most "
          + (Integer.MAX_VALUE - LENGTH_BYTES - header) / 4 + " parameters, the model has " + d);
    }
    return (int) n;
  }

  /** A human name for a type byte. */
  public static String typeName(int type) {
    return switch (type) {
      case HELLO -> "HELLO";
      case STEP -> "STEP";
      case SHARE -> "SHARE";
      case STOP -> "STOP";
      default -> "unknown type " + type;
    };
  }
}
