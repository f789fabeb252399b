package org.efcp.ml.train.stream;

import java.util.List;
import org.apache.spark.SparkContext;

/** {@link StreamLeaks} for tests in other packages. */
public final class StreamTestAccess {
  private StreamTestAccess() {}

  /** No endpoint thread, no port any captured "listening on" line announced, no running job. */
  public static void assertNothingLeft(SparkContext sc, List<String> capturedStreamEngineLog)
      throws InterruptedException {
    StreamLeaks.assertNothingLeft(sc, StreamLeaks.announcedPorts(capturedStreamEngineLog));
  }
}
