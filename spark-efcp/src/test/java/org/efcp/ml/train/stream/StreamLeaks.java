package org.efcp.ml.train.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkContext;
import org.efcp.ml.Eventually;

/** What a stream fit must leave behind: nothing. */
final class StreamLeaks {
  /** How long an endpoint thread or a job may take to end after the fit returns. */
  static final Duration SETTLE = Duration.ofSeconds(5);
  private static final Pattern LISTENING = Pattern.compile("listening on ([^:]+):(\\d+)");

  private StreamLeaks() {}

  /** The ports of the endpoints the captured log lines announce, in order. */
  static List<Integer> announcedPorts(List<String> messages) {
    return messages.stream().map(LISTENING::matcher).filter(Matcher::find)
        .map(m -> Integer.parseInt(m.group(2))).toList();
  }

  /** No endpoint thread, no listening port among {@code ports}, no running job. */
  static void assertNothingLeft(SparkContext sc, List<Integer> ports) throws InterruptedException {
    // the I/O thread's termination is signalled just before the thread itself ends
    Eventually.waitUntil(SETTLE, () -> endpointThreads() == 0);
    assertEquals(0, endpointThreads(), "endpoint threads left");
    for (int port : ports) {
      assertThrows(ConnectException.class, () -> connect(port), "port " + port + " still accepts connections");
    }
    // the status tracker learns of a job's end through the listener bus, a moment after the job's future
    Eventually.waitUntil(SETTLE, () -> sc.statusTracker().getActiveJobIds().length == 0);
    assertEquals(0, sc.statusTracker().getActiveJobIds().length, "jobs still running");
  }

  static long endpointThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().startsWith(StreamEndpoint.THREAD_PREFIX)).count();
  }

  private static void connect(int port) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
    }
  }
}
