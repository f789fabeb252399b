package org.efcp.ml.cluster;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import org.apache.spark.ExecutorLostFailure;
import org.apache.spark.SparkEnv;
import org.apache.spark.Success$;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.apache.spark.scheduler.SparkListenerTaskEnd;
import org.apache.spark.scheduler.SparkListenerTaskStart;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.Eventually;
import org.efcp.model.DenseBlock;
import org.efcp.model.MultinomialLogisticRegression;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import scala.Tuple2;

/**
 * A session on {@link LocalStandaloneCluster} runs its tasks in two executor JVMs other than the driver's,
 * those JVMs load efcp-core classes, and a job survives SIGKILL of an executor in its middle. The kill runs
 * last: its replacement executor may still be registering when it ends.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LocalStandaloneClusterTest {
  private static final Logger LOG = LoggerFactory.getLogger(LocalStandaloneClusterTest.class);
  private static final int EXECUTORS = 2;
  private static final String KILL_JOB_GROUP = "kill-an-executor";
  /** The local property {@code setJobGroup} sets (SparkContext.SPARK_JOB_GROUP_ID, private[spark]). */
  private static final String JOB_GROUP_PROPERTY = "spark.jobGroup.id";
  private static final long SLOW_TASK_MILLIS = 1000;

  private static LocalStandaloneCluster cluster;
  private static SparkSession spark;
  private static JavaSparkContext jsc;

  @BeforeAll
  static void startClusterAndSession() {
    long t0 = System.nanoTime();
    cluster = LocalStandaloneCluster.start(EXECUTORS);
    long t1 = System.nanoTime();
    spark = cluster.startSession("LocalStandaloneClusterTest");
    jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    LOG.info("standalone cluster up in {} ms, session with {} executors in {} ms ({})",
        (t1 - t0) / 1_000_000, EXECUTORS, (System.nanoTime() - t1) / 1_000_000, cluster.runDirectory());
  }

  @AfterAll
  static void stopSessionAndCluster() {
    try {
      if (spark != null) {
        spark.stop();
      }
    } finally {
      if (cluster != null) {
        cluster.close();
      }
    }
  }

  @Test
  @Order(1)
  void tasksRunInOneJvmPerExecutorAndTheseAreTheWorkersChildren() {
    List<Long> pids = jsc.parallelize(range(16), 16).map(i -> ProcessHandle.current().pid()).distinct().collect();
    Set<Long> distinct = new TreeSet<>(pids);
    assertEquals(EXECUTORS, distinct.size(), "distinct task PIDs " + distinct);
    assertFalse(distinct.contains(ProcessHandle.current().pid()), "a task ran in the driver JVM");
    assertEquals(new ArrayList<>(distinct), cluster.executorPids());
  }

  @Test
  @Order(2)
  void efcpCoreGradientSummedOverExecutorPartitionsMatchesTheSoftmaxFormula() {
    int features = 5;
    int classes = 3;
    int rowsPerPart = 16;
    int parts = 4;
    int rows = rowsPerPart * parts;
    Random rnd = new Random(11);
    double[] x = new double[rows * features];
    double[] y = new double[rows];
    double[] theta = new double[classes * features + classes];
    Arrays.setAll(x, i -> rnd.nextGaussian());
    Arrays.setAll(y, i -> rnd.nextInt(classes));
    Arrays.setAll(theta, i -> 0.5 * rnd.nextGaussian());

    List<Tuple2<Long, double[]>> partials = jsc.parallelize(range(parts), parts).map(p -> {
      DenseBlock block = new DenseBlock(rowsPerPart, features,
          Arrays.copyOfRange(x, p * rowsPerPart * features, (p + 1) * rowsPerPart * features),
          Arrays.copyOfRange(y, p * rowsPerPart, (p + 1) * rowsPerPart));
      double[] grad = new double[theta.length];
      new MultinomialLogisticRegression(features, classes, true).addLossAndGradient(block, theta, grad);
      return new Tuple2<>(ProcessHandle.current().pid(), grad);
    }).collect();

    double[] sum = new double[theta.length];
    Set<Long> pids = new HashSet<>();
    for (Tuple2<Long, double[]> partial : partials) {
      pids.add(partial._1());
      for (int k = 0; k < sum.length; k++) {
        sum[k] += partial._2()[k];
      }
    }
    assertTrue(cluster.executorPids().containsAll(pids), "gradients from " + pids + ", executors " + cluster.executorPids());
    assertArrayEquals(softmaxGradient(x, y, theta, features, classes), sum, 1e-10);
  }

  @Test
  @Order(3)
  void jobCompletesWithTheRightResultWhenAnExecutorIsKilledInItsMiddle() throws Exception {
    Map<String, Long> pidByExecutorId = jsc.parallelize(range(16), 16)
        .map(i -> SparkEnv.get().executorId() + "=" + ProcessHandle.current().pid())
        .distinct().collect().stream()
        .map(s -> s.split("="))
        .collect(Collectors.toMap(s -> s[0], s -> Long.parseLong(s[1])));
    assertEquals(EXECUTORS, pidByExecutorId.size(), "executors " + pidByExecutorId);

    int tasks = 8;
    List<Integer> values = range(800);
    long expected = values.stream().mapToLong(v -> (long) v * v).sum();
    TaskTracker tracker = new TaskTracker(KILL_JOB_GROUP);
    long victimPid;
    spark.sparkContext().addSparkListener(tracker);
    try {
      CompletableFuture<Long> job = CompletableFuture.supplyAsync(() -> {
        jsc.setJobGroup(KILL_JOB_GROUP, "an executor is killed in the middle", false);
        try {
          return jsc.parallelize(values, tasks).mapPartitions(it -> {
            Thread.sleep(SLOW_TASK_MILLIS);
            long s = 0;
            while (it.hasNext()) {
              long v = it.next();
              s += v * v;
            }
            return List.of(s).iterator();
          }).reduce(Long::sum);
        } finally {
          jsc.clearJobGroup();
        }
      });
      assertTrue(tracker.firstSuccess.await(60, TimeUnit.SECONDS), "no task of the job succeeded in 60 s");
      String victim = tracker.anExecutorRunningATask(Duration.ofSeconds(10));
      victimPid = pidByExecutorId.get(victim);
      cluster.killExecutor(victimPid);

      assertEquals(expected, job.get(120, TimeUnit.SECONDS));
      assertFalse(ProcessHandle.of(victimPid).map(ProcessHandle::isAlive).orElse(false), "killed executor alive");
      assertTrue(tracker.lostExecutors.contains(victim),
          "no task failed with ExecutorLostFailure on executor " + victim + ": " + tracker.lostExecutors);
    } finally {
      spark.sparkContext().removeSparkListener(tracker);
    }

    assertWorkerReplaces(victimPid, Duration.ofSeconds(30));
  }

  /** Fails unless the Worker runs {@link #EXECUTORS} executor processes, none {@code killedPid}, within the time. */
  private static void assertWorkerReplaces(long killedPid, Duration timeout) throws InterruptedException {
    assertTrue(Eventually.waitUntil(timeout, () -> {
      List<Long> pids = cluster.executorPids();
      return pids.size() == EXECUTORS && !pids.contains(killedPid);
    }), () -> "no replacement for executor " + killedPid + " after " + timeout.toSeconds() + " s: "
        + cluster.executorPids());
  }

  /** Tracks the tasks of the jobs in one job group: which are running where, and which were lost. */
  private static final class TaskTracker extends SparkListener {
    final CountDownLatch firstSuccess = new CountDownLatch(1);
    final List<String> lostExecutors = new CopyOnWriteArrayList<>();
    private final String jobGroup;
    private final Set<Integer> stages = ConcurrentHashMap.newKeySet();
    private final Map<Long, String> runningTaskExecutors = new ConcurrentHashMap<>();

    TaskTracker(String jobGroup) {
      this.jobGroup = jobGroup;
    }

    @Override
    public void onJobStart(SparkListenerJobStart jobStart) {
      if (jobStart.properties() != null
          && jobGroup.equals(jobStart.properties().getProperty(JOB_GROUP_PROPERTY))) {
        for (Object stage : scala.jdk.javaapi.CollectionConverters.asJava(jobStart.stageIds())) {
          stages.add((Integer) stage);
        }
      }
    }

    @Override
    public void onTaskStart(SparkListenerTaskStart taskStart) {
      if (stages.contains(taskStart.stageId())) {
        runningTaskExecutors.put(taskStart.taskInfo().taskId(), taskStart.taskInfo().executorId());
      }
    }

    @Override
    public void onTaskEnd(SparkListenerTaskEnd taskEnd) {
      if (!stages.contains(taskEnd.stageId())) {
        return;
      }
      runningTaskExecutors.remove(taskEnd.taskInfo().taskId());
      if (taskEnd.reason() instanceof ExecutorLostFailure lost) {
        lostExecutors.add(lost.execId());
      } else if (taskEnd.reason() == Success$.MODULE$) {
        firstSuccess.countDown();
      }
    }

    /** An executor that is running a task of the group, waiting up to {@code timeout} for one. */
    String anExecutorRunningATask(Duration timeout) throws InterruptedException {
      assertTrue(Eventually.waitUntil(timeout, () -> !runningTaskExecutors.isEmpty()),
          () -> "no task of the job running after " + timeout.toSeconds() + " s");
      return runningTaskExecutors.values().iterator().next();
    }
  }

  /** Σ_i (softmax(W x_i + b) − onehot(y_i)) ⊗ (x_i, 1), written out as in the definition, with θ = (W row-major, b). */
  private static double[] softmaxGradient(double[] x, double[] y, double[] theta, int features, int classes) {
    double[] grad = new double[theta.length];
    int bias = classes * features;
    for (int i = 0; i < y.length; i++) {
      double[] z = new double[classes];
      double max = Double.NEGATIVE_INFINITY;
      for (int c = 0; c < classes; c++) {
        z[c] = theta[bias + c];
        for (int j = 0; j < features; j++) {
          z[c] += theta[c * features + j] * x[i * features + j];
        }
        max = Math.max(max, z[c]);
      }
      double norm = 0;
      for (int c = 0; c < classes; c++) {
        norm += Math.exp(z[c] - max);
      }
      for (int c = 0; c < classes; c++) {
        double residual = Math.exp(z[c] - max) / norm - (c == (int) y[i] ? 1 : 0);
        for (int j = 0; j < features; j++) {
          grad[c * features + j] += residual * x[i * features + j];
        }
        grad[bias + c] += residual;
      }
    }
    return grad;
  }

  private static List<Integer> range(int n) {
    return IntStream.range(0, n).boxed().toList();
  }
}
