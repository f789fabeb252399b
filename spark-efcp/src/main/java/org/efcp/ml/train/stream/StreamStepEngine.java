package org.efcp.ml.train.stream;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import java.nio.ByteOrder;
import java.security.SecureRandom;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.spark.HashPartitioner;
import org.apache.spark.SparkContext;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaRDD;
import org.efcp.ml.train.BatchTotals;
import org.efcp.ml.train.FixedOrderSum;
import org.efcp.ml.train.PartitionGradient;
import org.efcp.ml.train.StepEngine;
import org.efcp.ml.train.TrainingBlock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;
import scala.reflect.ClassTag$;

/**
 * One long-lived task per partition in a barrier stage keeps its cached blocks and, for every step, receives θ
 * from the driver's {@link StreamEndpoint}, computes its {@code PartitionShare} and sends it back; the driver sums
 * the shares along the fixed tree of {@link FixedOrderSum}, so the result equals the jobs engine's.
 *
 * <p>Faults: when a task's connection closes in the middle of the fit (executor lost, task failed), the barrier
 * stage fails and Spark reruns all its tasks as a new stage attempt (the stage is a shuffle-map stage, which
 * Spark retries; it aborts a failed barrier result stage). The driver drops the old attempt's connections, waits
 * for the new attempt's tasks and sends the unfinished step again: the optimizer state lives on the driver, so
 * the fit ends with the same model as an undisturbed one. A protocol violation by an authenticated peer, a
 * terminal stage failure or {@code spark.efcp.stream.timeout} without progress fails the fit.
 *
 * <p>Security: the endpoint binds to the driver host only and accepts a connection only with the per-fit
 * secret, which travels to the tasks inside the task closure; frames are checked for type and exact length.
 * The channel is authenticated but not encrypted: weights and gradients cross it in the clear.
 */
public final class StreamStepEngine implements StepEngine {
  private static final Logger LOG = LoggerFactory.getLogger(StreamStepEngine.class);
  private static final long POLL_MILLIS = 100;
  /** Longest wait for the tasks to end after STOP, and again after a cancel, ms. */
  private static final long END_MILLIS = 30_000;

  private final SparkContext sc;
  private final int numPartitions;
  private final int dimension;
  private final long timeoutMillis;
  private final BlockingQueue<StreamEvent> events;
  private final StreamEndpoint endpoint;
  private final String jobTag = "efcp-stream-" + UUID.randomUUID();
  private final Channel[] channels;
  private JavaFutureAction<Long> job;
  /** The stage attempt whose tasks are connected, -1 while waiting for one. */
  private int attempt = -1;
  private ByteBuf stepFrame;
  private final FixedOrderSum summer;
  /** Per partition: the float32 share of the running step, reused every step. */
  private float[][] shares;
  private double[] sum;
  private float[] rounded;
  /** False once a step failed: close() then cancels the tasks instead of stopping them. */
  private boolean healthy = true;

  private StreamStepEngine(SparkContext sc, int numPartitions, int dimension, long timeoutMillis,
      BlockingQueue<StreamEvent> events, StreamEndpoint endpoint) {
    this.sc = sc;
    this.numPartitions = numPartitions;
    this.dimension = dimension;
    this.timeoutMillis = timeoutMillis;
    this.events = events;
    this.endpoint = endpoint;
    this.channels = new Channel[numPartitions];
    this.summer = new FixedOrderSum(numPartitions);
  }

  /**
   * Binds the endpoint, launches the barrier stage and waits until every task has connected.
   *
   * @throws StreamUnavailableException if the tasks did not all connect; nothing is left running
   */
  public static StreamStepEngine start(JavaRDD<TrainingBlock> blocks, PartitionGradient kernel,
      double[] featureScale, StreamSettings settings) throws StreamUnavailableException {
    byte[] token = new byte[StreamProtocol.TOKEN_BYTES];
    new SecureRandom().nextBytes(token);
    return start(blocks, kernel, featureScale, settings, token);
  }

  /** {@link #start(JavaRDD, PartitionGradient, double[], StreamSettings)} with a given secret (tests). */
  static StreamStepEngine start(JavaRDD<TrainingBlock> blocks, PartitionGradient kernel, double[] featureScale,
      StreamSettings settings, byte[] token) throws StreamUnavailableException {
    SparkContext sc = blocks.context();
    int numPartitions = blocks.getNumPartitions();
    int d = kernel.dimension();
    StreamProtocol.shareLength(d);
    BlockingQueue<StreamEvent> events = new LinkedBlockingQueue<>();
    StreamEndpoint endpoint = StreamEndpoint.open(settings.bindHost(), settings.port(), token, numPartitions, d,
        Math.min(settings.timeoutMillis(), 10_000), events);
    StreamStepEngine engine = new StreamStepEngine(sc, numPartitions, d, settings.timeoutMillis(), events,
        endpoint);
    try {
      LOG.info("EFCP stream engine listening on {}:{} for {} barrier tasks", settings.bindHost(),
          endpoint.address().getPort(), numPartitions);
      engine.launch(blocks, new StreamTask(settings.advertisedHost(), endpoint.address().getPort(), token,
          numPartitions, kernel, featureScale, settings.timeoutMillis()));
      engine.awaitTasks(-1);
      return engine;
    } catch (StreamFailure e) {
      engine.healthy = false;
      engine.close();
      throw new StreamUnavailableException(e.getMessage(), e.getCause());
    } catch (RuntimeException | Error e) {
      engine.close();
      throw e;
    }
  }

  /** Submits the barrier stage as a shuffle-map stage (retried by Spark), tagged so it can be cancelled. */
  private void launch(JavaRDD<TrainingBlock> blocks, StreamTask task) {
    JavaRDD<Long> served = new JavaRDD<>(blocks.rdd().barrier().mapPartitions(task, false,
        ClassTag$.MODULE$.apply(Long.class)), ClassTag$.MODULE$.apply(Long.class));
    String interrupt = sc.getLocalProperty("spark.job.interruptOnCancel");
    String description = sc.getLocalProperty("spark.job.description");
    sc.addJobTag(jobTag);
    sc.setInterruptOnCancel(true);
    sc.setJobDescription("EFCP stream engine: " + numPartitions + " long-lived tasks");
    try {
      job = served.mapToPair(n -> new Tuple2<>(0, n)).partitionBy(new HashPartitioner(1)).countAsync();
    } finally {
      sc.removeJobTag(jobTag);
      sc.setLocalProperty("spark.job.interruptOnCancel", interrupt);
      sc.setJobDescription(description);
    }
  }

  @Override
  public String name() {
    return "stream";
  }

  @Override
  public StepGradient gradient(double[] theta, int epoch, long step, long globalStep) {
    if (shares == null) {
      shares = new float[numPartitions][dimension];
      sum = new double[dimension];
    }
    try {
      long t0 = System.nanoTime();
      encode(theta, epoch, step, globalStep);
      send();
      long t1 = System.nanoTime();
      final boolean[] received = new boolean[numPartitions];
      double[] loss = new double[numPartitions];
      double[] weight = new double[numPartitions];
      long rows = 0;
      int count = 0;
      long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
      while (count < numPartitions) {
        StreamEvent e = next(deadline, () -> "no gradient share for step " + globalStep + " from partitions "
            + missing(received) + " within " + timeoutMillis + " ms (spark.efcp.stream.timeout)");
        if (e instanceof StreamEvent.Share s) {
          try {
            if (s.attempt() != attempt || s.channel() != channels[s.partition()]) {
              continue; // a share a dropped connection sent before it closed
            }
            if (s.globalStep() != globalStep || received[s.partition()]) {
              s.channel().close();
              throw new StreamFailure("partition " + s.partition() + " sent a share for step " + s.globalStep()
                  + (received[s.partition()] ? " twice" : " while step " + globalStep + " was running"), null);
            }
            s.gradient().nioBuffer().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(shares[s.partition()]);
          } finally {
            s.gradient().release();
          }
          received[s.partition()] = true;
          count++;
          loss[s.partition()] = s.totals().loss();
          weight[s.partition()] = s.totals().weight();
          rows += s.totals().rows();
        } else if (lost(e)) {
          LOG.warn("EFCP stream engine: lost the tasks of stage attempt {} at step {}; waiting for Spark to rerun "
              + "the barrier stage", attempt, globalStep);
          int newer = e instanceof StreamEvent.Connected c && c.attempt() > attempt ? c.attempt() : -1;
          dropConnections();
          if (newer >= 0) {
            register((StreamEvent.Connected) e);
          }
          awaitTasks(newer);
          LOG.info("EFCP stream engine: stage attempt {} connected; repeating step {}", attempt, globalStep);
          send();
          java.util.Arrays.fill(received, false);
          rows = 0;
          count = 0;
          deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        }
      }
      summer.sum(shares, sum);
      BatchTotals totals = new BatchTotals(summer.sum(loss), summer.sum(weight), rows);
      return new StepGradient(sum, totals, (t1 - t0) * 1e-6, (System.nanoTime() - t1) * 1e-6);
    } catch (StreamFailure e) {
      healthy = false;
      throw new IllegalStateException("stepEngine stream: " + e.getMessage(), e.getCause());
    }
  }

  /** Whether {@code e} means the connected stage attempt is gone (or a newer one is connecting). */
  private boolean lost(StreamEvent e) {
    if (e instanceof StreamEvent.Closed c) {
      return c.attempt() == attempt && c.channel() == channels[c.partition()];
    }
    if (e instanceof StreamEvent.Connected c) {
      if (c.attempt() > attempt) {
        return true;
      }
      c.channel().close(); // a late task of an attempt already replaced
    }
    return false;
  }

  /**
   * θ rounded to float32 as one STEP frame; reuses the previous frame's buffer once every write of it has
   * completed.
   */
  private void encode(double[] theta, int epoch, long step, long globalStep) {
    int length = StreamProtocol.stepLength(dimension);
    if (stepFrame != null && stepFrame.refCnt() > 1) {
      stepFrame.release();
      stepFrame = null;
    }
    if (stepFrame == null) {
      stepFrame = Unpooled.directBuffer(StreamProtocol.LENGTH_BYTES + length);
    }
    stepFrame.clear();
    stepFrame.writeIntLE(length).writeByte(StreamProtocol.STEP).writeLongLE(globalStep).writeIntLE(epoch)
        .writeLongLE(step);
    if (rounded == null) {
      rounded = new float[dimension];
    }
    for (int i = 0; i < dimension; i++) {
      rounded[i] = (float) theta[i];
    }
    stepFrame.nioBuffer(stepFrame.writerIndex(), 4 * dimension).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer()
        .put(rounded); // a plain loop and a bulk copy beat per-element puts into the direct buffer
    stepFrame.writerIndex(stepFrame.writerIndex() + 4 * dimension);
  }

  private void send() {
    for (Channel c : channels) {
      c.writeAndFlush(stepFrame.retainedDuplicate());
    }
  }

  /**
   * Waits until all tasks of one stage attempt are connected: of {@code first} (≥ 0: already begun) or of the
   * next attempt that connects.
   */
  private void awaitTasks(int first) throws StreamFailure {
    attempt = first;
    long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
    while (connected() < numPartitions) {
      StreamEvent e = next(deadline, () -> (attempt < 0 ? "no" : "only " + connected() + " of " + numPartitions)
          + " barrier tasks connected within " + timeoutMillis + " ms (spark.efcp.stream.timeout); the cluster has "
          + "no free slot for every partition now");
      if (e instanceof StreamEvent.Connected c) {
        if (c.attempt() > attempt) {
          dropConnections();
          attempt = c.attempt();
        }
        if (c.attempt() < attempt) {
          c.channel().close();
        } else {
          register(c);
        }
      } else if (e instanceof StreamEvent.Share s) {
        s.gradient().release(); // sent by a connection already dropped
      } else if (e instanceof StreamEvent.Closed c && c.attempt() == attempt
          && c.channel() == channels[c.partition()]) {
        dropConnections(); // this attempt is failing too; wait for the next
        attempt = -1;
      }
    }
  }

  private void register(StreamEvent.Connected c) throws StreamFailure {
    attempt = c.attempt();
    if (channels[c.partition()] != null) {
      c.channel().close();
      throw new StreamFailure("a second connection claimed partition " + c.partition() + " of stage attempt "
          + c.attempt(), null);
    }
    channels[c.partition()] = c.channel();
  }

  /** Connections of the current stage attempt. */
  private int connected() {
    int n = 0;
    for (Channel c : channels) {
      n += c == null ? 0 : 1;
    }
    return n;
  }

  private void dropConnections() {
    for (int p = 0; p < numPartitions; p++) {
      if (channels[p] != null) {
        channels[p].close();
        channels[p] = null;
      }
    }
  }

  /**
   * The next event, polling so that a finished (failed) barrier job, a violation or the deadline ends the wait.
   */
  private StreamEvent next(long deadline, java.util.function.Supplier<String> timeoutMessage)
      throws StreamFailure {
    while (true) {
      StreamEvent e;
      try {
        e = events.poll(POLL_MILLIS, TimeUnit.MILLISECONDS);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        throw new StreamFailure("interrupted", ie);
      }
      if (e instanceof StreamEvent.Violation v) {
        throw new StreamFailure("partition " + v.partition() + " broke the protocol (" + v.what()
            + "); its connection was closed", null);
      }
      if (e != null) {
        return e;
      }
      if (job.isDone()) {
        throw new StreamFailure("the barrier stage ended: " + jobOutcome(), jobError());
      }
      if (System.nanoTime() > deadline) {
        throw new StreamFailure(timeoutMessage.get(), null);
      }
    }
  }

  private String jobOutcome() {
    Throwable t = jobError();
    return t == null ? "its tasks returned" : String.valueOf(t.getMessage());
  }

  private Throwable jobError() {
    try {
      job.get(0, TimeUnit.MILLISECONDS);
      return null;
    } catch (ExecutionException e) {
      return e.getCause();
    } catch (InterruptedException | TimeoutException | java.util.concurrent.CancellationException e) {
      return e;
    }
  }

  private static String missing(boolean[] received) {
    StringBuilder sb = new StringBuilder();
    for (int p = 0; p < received.length; p++) {
      if (!received[p]) {
        sb.append(sb.length() == 0 ? "" : ", ").append(p);
      }
    }
    return sb.toString();
  }

  /**
   * Ends the tasks: after a healthy fit by STOP (so the stage completes), else, or if they do not end, by
   * cancelling them; then closes the endpoint. Leaves no thread, port or task behind.
   */
  @Override
  public void close() {
    try {
      if (job != null && !job.isDone() && healthy && connected() == numPartitions) {
        ByteBuf stop = Unpooled.buffer(StreamProtocol.LENGTH_BYTES + StreamProtocol.STOP_LENGTH)
            .writeIntLE(StreamProtocol.STOP_LENGTH).writeByte(StreamProtocol.STOP);
        for (Channel c : channels) {
          c.writeAndFlush(stop.retainedDuplicate());
        }
        stop.release();
        awaitJob(END_MILLIS);
      }
      if (job != null && !job.isDone()) {
        sc.cancelJobsWithTag(jobTag, "EFCP stream engine closed");
      }
    } finally {
      endpoint.close();
      for (StreamEvent e; (e = events.poll()) != null; ) {
        if (e instanceof StreamEvent.Share s) {
          s.gradient().release();
        }
      }
      if (stepFrame != null) {
        stepFrame.release();
        stepFrame = null;
      }
    }
    if (job != null && !awaitJob(END_MILLIS)) {
      LOG.warn("EFCP stream engine: the barrier tasks did not end within {} ms of their cancellation", END_MILLIS);
    }
  }

  private boolean awaitJob(long millis) {
    try {
      job.get(millis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return job.isDone();
    } catch (ExecutionException | java.util.concurrent.CancellationException e) {
      return true;
    }
    return true;
  }

  /** Why the stream could not go on; becomes the fit's error or a {@link StreamUnavailableException}. */
  private static final class StreamFailure extends Exception {
    private static final long serialVersionUID = 1L;

    StreamFailure(String message, Throwable cause) {
      super(message, cause);
    }
  }

  @Override
  public String toString() {
    return String.format(Locale.ROOT, "StreamStepEngine[%d tasks, d=%d, attempt %d]", numPartitions, dimension,
        attempt);
  }
}
