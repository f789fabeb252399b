package org.efcp.ml.train.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.CapturedLog;
import org.efcp.ml.TestData;
import org.efcp.ml.train.DatasetSummary;
import org.efcp.ml.train.GradientPartial;
import org.efcp.ml.train.PartitionGradient;
import org.efcp.ml.train.PartitionShare;
import org.efcp.ml.train.StepEngine;
import org.efcp.ml.train.TrainingBlock;
import org.efcp.ml.train.TrainingData;
import org.efcp.model.MultinomialLogisticRegression;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The engine itself on local[2] with a known token: its step sums equal the shares computed directly from the
 * blocks, a peer holding the token that breaks the protocol fails the fit cleanly, and stale tasks are replaced.
 */
class StreamStepEngineTest {
  private static final int FEATURES = 4;
  private static final int CLASSES = 3;
  private static SparkSession spark;
  private static TrainingData data;
  private static PartitionGradient kernel;
  /** The blocks, collected before any engine holds the slots. */
  private static List<TrainingBlock> collected;

  @BeforeAll
  static void start() {
    spark = TestData.session("local[2]", "StreamStepEngineTest");
    data = TrainingData.prepare(TestData.gaussianClasses(spark, 400, FEATURES, CLASSES, 1.0, 3, 4, 2),
        "features", "label", "");
    DatasetSummary s = data.summary();
    kernel = new PartitionGradient(new MultinomialLogisticRegression(FEATURES, CLASSES, true),
        s.partitionOffsets(), s.numRows(), 9, 64);
    collected = data.blocks().collect();
  }

  @AfterAll
  static void stop() {
    data.close();
    spark.stop();
  }

  private static StreamSettings settings() {
    return new StreamSettings("127.0.0.1", "127.0.0.1", 0, 20_000);
  }

  private static float[] theta(int seed) {
    java.util.Random r = new java.util.Random(seed);
    float[] t = new float[kernel.dimension()];
    for (int i = 0; i < t.length; i++) {
      t[i] = (float) (0.1 * r.nextGaussian());
    }
    return t;
  }

  /** The fixed-order sum of the shares computed on the driver from the collected blocks. */
  private static GradientPartial direct(float[] theta, int epoch, long step) {
    List<TrainingBlock> blocks = collected;
    GradientPartial sum = GradientPartial.empty();
    int d = kernel.dimension();
    for (TrainingBlock b : blocks) {
      PartitionShare s = kernel.compute(List.of(b), theta, new double[d], null, epoch, step, new double[d]);
      sum.merge(s.leaf(b.partition(), blocks.size()));
    }
    return sum;
  }

  @Test
  void everyStepSumsTheSharesTheBlocksGive() throws Exception {
    byte[] token = new byte[StreamProtocol.TOKEN_BYTES];
    List<Integer> ports;
    try (CapturedLog log = CapturedLog.of(StreamStepEngine.class);
        StreamStepEngine engine = StreamStepEngine.start(data.blocks(), kernel, null, settings(), token)) {
      for (int step = 0; step < 7; step++) {
        float[] theta = theta(step);
        StepEngine.StepGradient g = engine.gradient(theta, 1 + step / 4, step % 4, step);
        GradientPartial expected = direct(theta, 1 + step / 4, step % 4);
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected.gradient(), g.sum().gradient(), 0.0);
        assertEquals(expected.loss(), g.sum().loss(), 0.0);
        assertEquals(expected.rows(), g.sum().rows());
        assertTrue(g.shipMillis() >= 0 && g.gatherMillis() > 0);
      }
      ports = StreamLeaks.announcedPorts(log.messages());
    }
    StreamLeaks.assertNothingLeft(spark.sparkContext(), ports);
  }

  @Test
  void authenticatedPeerSendingAnOversizedFrameFailsTheFitAndLeavesNothing() throws Exception {
    byte[] token = new byte[StreamProtocol.TOKEN_BYTES];
    token[0] = 42;
    List<Integer> ports;
    StreamStepEngine engine;
    try (CapturedLog log = CapturedLog.of(StreamStepEngine.class);
        CapturedLog endpointLog = CapturedLog.of(StreamEndpoint.class)) {
      engine = StreamStepEngine.start(data.blocks(), kernel, null, settings(), token);
      ports = StreamLeaks.announcedPorts(log.messages());
      engine.gradient(theta(1), 1, 0, 0);
      try (Socket rogue = new Socket("127.0.0.1", ports.get(0))) {
        OutputStream out = rogue.getOutputStream();
        out.write(ByteBuffer.allocate(4 + StreamProtocol.HELLO_LENGTH).order(ByteOrder.LITTLE_ENDIAN)
            .putInt(StreamProtocol.HELLO_LENGTH).put(StreamProtocol.HELLO).put(token).putInt(1).putInt(2)
            .putInt(0).putInt(kernel.dimension()).array());
        out.write(ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putInt(1 << 30).putInt(0).array());
        out.flush();
        Thread.sleep(300);
        IllegalStateException e = assertThrows(IllegalStateException.class,
            () -> engine.gradient(theta(2), 1, 1, 1));
        assertTrue(e.getMessage().startsWith("stepEngine stream: partition 1 broke the protocol (frame length "
            + "1073741824 outside"), e.getMessage());
      } finally {
        engine.close();
      }
      assertTrue(endpointLog.messages().stream().anyMatch(m -> m.contains("closing the connection of partition 1")),
          endpointLog.messages().toString());
    }
    StreamLeaks.assertNothingLeft(spark.sparkContext(), ports);
  }

  @Test
  void anUnauthenticatedPeerDoesNotDisturbTheSteps() throws Exception {
    byte[] token = new byte[StreamProtocol.TOKEN_BYTES];
    token[1] = 7;
    List<Integer> ports = new ArrayList<>();
    try (CapturedLog log = CapturedLog.of(StreamStepEngine.class);
        StreamStepEngine engine = StreamStepEngine.start(data.blocks(), kernel, null, settings(), token)) {
      ports.addAll(StreamLeaks.announcedPorts(log.messages()));
      try (Socket rogue = new Socket("127.0.0.1", ports.get(0))) {
        byte[] wrong = new byte[StreamProtocol.TOKEN_BYTES];
        rogue.getOutputStream().write(ByteBuffer.allocate(4 + StreamProtocol.HELLO_LENGTH)
            .order(ByteOrder.LITTLE_ENDIAN).putInt(StreamProtocol.HELLO_LENGTH).put(StreamProtocol.HELLO)
            .put(wrong).putInt(0).putInt(2).putInt(9).putInt(kernel.dimension()).array());
        rogue.setSoTimeout(5000);
        assertEquals(-1, rogue.getInputStream().read());
      }
      float[] theta = theta(3);
      StepEngine.StepGradient g = engine.gradient(theta, 2, 1, 0);
      org.junit.jupiter.api.Assertions.assertArrayEquals(direct(theta, 2, 1).gradient(), g.sum().gradient(), 0.0);
    }
    StreamLeaks.assertNothingLeft(spark.sparkContext(), ports);
  }

  @Test
  void busySlotsMakeTheStartGiveUpAfterTheTimeoutAndReleaseEverything() throws Exception {
    // another job holds one of the two slots: the barrier stage cannot start all its tasks at once
    org.apache.spark.api.java.JavaSparkContext jsc =
        org.apache.spark.api.java.JavaSparkContext.fromSparkContext(spark.sparkContext());
    org.apache.spark.api.java.JavaFutureAction<Long> sleeper = jsc.parallelize(List.of(1), 1).map(x -> {
      Thread.sleep(6_000);
      return x;
    }).countAsync();
    Thread.sleep(500);
    try (CapturedLog log = CapturedLog.of(StreamStepEngine.class)) {
      StreamUnavailableException e = assertThrows(StreamUnavailableException.class, () -> StreamStepEngine.start(
          data.blocks(), kernel, null, new StreamSettings("127.0.0.1", "127.0.0.1", 0, 2_000)));
      assertTrue(e.getMessage().contains("barrier tasks connected within 2000 ms"), e.getMessage());
      assertEquals(1L, sleeper.get());
      StreamLeaks.assertNothingLeft(spark.sparkContext(), StreamLeaks.announcedPorts(log.messages()));
    }
  }
}
