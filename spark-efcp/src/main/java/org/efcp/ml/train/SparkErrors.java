package org.efcp.ml.train;

/** Turns a failed Spark job back into the input error a task raised. */
public final class SparkErrors {
  private SparkErrors() {}

  /**
   * The {@link IllegalArgumentException} a task threw (Spark wraps it in a SparkException whose cause chain
   * holds it), re-raised on the driver with its own message; any other failure as it is.
   */
  public static RuntimeException inputError(Exception e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof IllegalArgumentException iae) {
        return new IllegalArgumentException(iae.getMessage(), e);
      }
    }
    return e instanceof RuntimeException re ? re : new IllegalStateException(e.getMessage(), e);
  }
}
