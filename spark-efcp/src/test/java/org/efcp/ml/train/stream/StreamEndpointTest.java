package org.efcp.ml.train.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.efcp.ml.Eventually;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The driver endpoint against raw sockets that send what a task would, and what an attacker or a broken task
 * might: it accepts only the fit's token, checks every frame's type and length, closes offending connections,
 * and reports a violation only for an authenticated peer (an unauthenticated one must not be able to stop a fit).
 */
class StreamEndpointTest {
  private static final int PARTITIONS = 2;
  private static final int D = 5;
  private static final long AUTH_MILLIS = 1_000;

  private final byte[] token = new byte[StreamProtocol.TOKEN_BYTES];
  private final BlockingQueue<StreamEvent> events = new LinkedBlockingQueue<>();
  private StreamEndpoint endpoint;

  @BeforeEach
  void open() {
    new java.util.Random(1).nextBytes(token);
    endpoint = StreamEndpoint.open("127.0.0.1", 0, token, PARTITIONS, D, AUTH_MILLIS, events);
  }

  @AfterEach
  void close() {
    endpoint.close();
  }

  private Socket connect() throws IOException {
    Socket s = new Socket();
    s.connect(new InetSocketAddress("127.0.0.1", endpoint.address().getPort()), 2000);
    s.setSoTimeout(5000);
    return s;
  }

  private static byte[] hello(byte[] token, int partition, int partitions, int attempt, int d) {
    return ByteBuffer.allocate(4 + StreamProtocol.HELLO_LENGTH).order(ByteOrder.LITTLE_ENDIAN)
        .putInt(StreamProtocol.HELLO_LENGTH).put(StreamProtocol.HELLO).put(token).putInt(partition)
        .putInt(partitions).putInt(attempt).putInt(d).array();
  }

  private static byte[] share(long step, double loss, float[] g) {
    ByteBuffer b = ByteBuffer.allocate(4 + StreamProtocol.shareLength(g.length)).order(ByteOrder.LITTLE_ENDIAN)
        .putInt(StreamProtocol.shareLength(g.length)).put(StreamProtocol.SHARE).putLong(step).putDouble(loss)
        .putDouble(2.0).putLong(3);
    for (float v : g) {
      b.putFloat(v);
    }
    return b.array();
  }

  /** The peer saw the connection closed: end of stream (or a reset) within 5 s. */
  private static void assertClosedByEndpoint(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    try {
      assertEquals(-1, in.read(), "the endpoint should have closed the connection");
    } catch (SocketTimeoutException e) {
      throw new AssertionError("the endpoint kept the connection open", e);
    } catch (java.net.SocketException reset) {
      // a reset also closes it
    }
  }

  private StreamEvent event() throws InterruptedException {
    return events.poll(5, TimeUnit.SECONDS);
  }

  @Test
  void authenticatedTaskSharesArriveDecoded() throws Exception {
    try (Socket s = connect()) {
      s.getOutputStream().write(hello(token, 1, PARTITIONS, 0, D));
      StreamEvent.Connected c = assertInstanceOf(StreamEvent.Connected.class, event());
      assertEquals(1, c.partition());
      assertEquals(0, c.attempt());
      float[] g = {1.5f, -2f, 0f, 3.25f, Float.MIN_VALUE};
      s.getOutputStream().write(share(7, 0.5, g));
      StreamEvent.Share sh = assertInstanceOf(StreamEvent.Share.class, event());
      assertEquals(7, sh.globalStep());
      assertEquals(1, sh.partition());
      assertEquals(0.5, sh.totals().loss());
      assertEquals(2.0, sh.totals().weight());
      assertEquals(3, sh.totals().rows());
      float[] got = new float[D];
      sh.gradient().nioBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(got);
      sh.gradient().release();
      assertArrayEquals(g, got);
    }
    assertInstanceOf(StreamEvent.Closed.class, event());
  }

  @Test
  void wrongTokenIsClosedWithoutAnyEvent() throws Exception {
    byte[] wrong = token.clone();
    wrong[31] ^= 1;
    try (Socket s = connect()) {
      s.getOutputStream().write(hello(wrong, 0, PARTITIONS, 0, D));
      assertClosedByEndpoint(s);
    }
    assertNull(events.poll(300, TimeUnit.MILLISECONDS), "an unauthenticated peer must not reach the fit");
  }

  @Test
  void unauthenticatedGarbageAndOversizedFramesAreClosedWithoutAnyEvent() throws Exception {
    try (Socket s = connect()) {
      // a length far above a HELLO: refused from the length field alone, nothing buffered
      s.getOutputStream().write(new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x7f, 1, 2, 3});
      assertClosedByEndpoint(s);
    }
    try (Socket s = connect()) {
      byte[] shareFirst = share(0, 0, new float[D]);
      s.getOutputStream().write(java.util.Arrays.copyOf(shareFirst, 4 + StreamProtocol.HELLO_LENGTH));
      assertClosedByEndpoint(s);
    }
    try (Socket s = connect()) {
      s.getOutputStream().write(hello(token, 2, PARTITIONS, 0, D)); // partition out of range
      assertClosedByEndpoint(s);
    }
    try (Socket s = connect()) {
      s.getOutputStream().write(hello(token, 0, PARTITIONS, 0, D + 1)); // another model's size
      assertClosedByEndpoint(s);
    }
    assertNull(events.poll(300, TimeUnit.MILLISECONDS));
  }

  @Test
  void silentConnectionIsClosedAfterTheAuthenticationTimeout() throws Exception {
    try (Socket s = connect()) {
      long t0 = System.nanoTime();
      assertClosedByEndpoint(s);
      double waited = (System.nanoTime() - t0) * 1e-6;
      assertTrue(waited >= AUTH_MILLIS * 0.8 && waited < AUTH_MILLIS * 4, "closed after " + waited + " ms");
    }
    assertNull(events.poll(100, TimeUnit.MILLISECONDS));
  }

  @Test
  void authenticatedPeerBreakingTheProtocolIsClosedAndReportedAsViolation() throws Exception {
    // a share of the wrong length
    assertViolation(share(0, 0, new float[D - 1]), "expected a SHARE");
    // an unknown type with the right length
    byte[] unknown = share(0, 0, new float[D]);
    unknown[4] = 9;
    assertViolation(unknown, "unknown type 9");
    // an oversized length field, above a SHARE's
    assertViolation(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(Integer.MAX_VALUE).putInt(0)
        .array(), "frame length 2147483647 outside");
    // a zero length
    assertViolation(new byte[4], "frame length 0 outside");
  }

  private void assertViolation(byte[] bad, String expected) throws Exception {
    try (Socket s = connect()) {
      s.getOutputStream().write(hello(token, 0, PARTITIONS, 3, D));
      assertInstanceOf(StreamEvent.Connected.class, event());
      s.getOutputStream().write(bad);
      StreamEvent.Violation v = assertInstanceOf(StreamEvent.Violation.class, event());
      assertEquals(0, v.partition());
      assertTrue(v.what().contains(expected), v.what());
      assertClosedByEndpoint(s);
    }
    assertInstanceOf(StreamEvent.Closed.class, event());
  }

  @Test
  void closeReleasesThePortAndTheIoThread() throws Exception {
    int port = endpoint.address().getPort();
    Socket open = connect();
    open.getOutputStream().write(hello(token, 0, PARTITIONS, 0, D));
    assertInstanceOf(StreamEvent.Connected.class, event());
    endpoint.close();
    assertClosedByEndpoint(open);
    open.close();
    assertThrows(ConnectException.class, () -> new Socket("127.0.0.1", port).close());
    Eventually.waitUntil(StreamLeaks.SETTLE, () -> StreamLeaks.endpointThreads() == 0);
    assertEquals(0, StreamLeaks.endpointThreads());
    endpoint = StreamEndpoint.open("127.0.0.1", 0, token, PARTITIONS, D, AUTH_MILLIS, events);
  }
}
