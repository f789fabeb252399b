package org.efcp.ml.train.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkContext;

/** What a stream fit must leave behind: nothing. */
final class StreamLeaks {
  private static final Pattern LISTENING = Pattern.compile("listening on ([^:]+):(\\d+)");

  private StreamLeaks() {}

  /** The ports of the endpoints the captured log lines announce, in order. */
  static List<Integer> announcedPorts(List<String> messages) {
    return messages.stream().map(LISTENING::matcher).filter(Matcher::find)
        .map(m -> Integer.parseInt(m.group(2))).toList();
  }

  /** No endpoint thread, no listening port among {@code ports}, no running job. */
  static void assertNothingLeft(SparkContext sc, List<Integer> ports) {
    long threads = Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.getName().startsWith(StreamEndpoint.THREAD_PREFIX)).count();
    assertEquals(0, threads, "endpoint threads left");
    for (int port : ports) {
      assertThrows(ConnectException.class, () -> connect(port), "port " + port + " still accepts connections");
    }
    assertEquals(0, sc.statusTracker().getActiveJobIds().length, "jobs still running");
  }

  private static void connect(int port) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
    }
  }

  static void assertTrueWithin(long millis, java.util.function.BooleanSupplier condition, String what)
      throws InterruptedException {
    long end = System.nanoTime() + millis * 1_000_000L;
    while (!condition.getAsBoolean() && System.nanoTime() < end) {
      Thread.sleep(20);
    }
    assertTrue(condition.getAsBoolean(), what);
  }
}
