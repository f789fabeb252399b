package org.efcp.ml.cluster;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import org.apache.spark.SparkConf;
import org.apache.spark.SparkContext;
import org.apache.spark.launcher.JavaModuleOptions;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.Eventually;

/**
 * A real Spark standalone cluster on 127.0.0.1 for tests: one Master JVM and one Worker JVM (separate
 * processes, started from the Maven jars only), so that a session built with {@link #sessionBuilder(String)}
 * runs its tasks in {@code executors} executor JVMs (one core each) that are children of the Worker.
 *
 * <p>{@code SPARK_HOME} is a directory of symlinks to Spark's jars in the local Maven repository (see
 * {@link ClusterClasspath}); executors get the rest of the test classpath through
 * {@code spark.executor.extraClassPath}. Everything lives under
 * {@code target/standalone-cluster/<timestamp>/}: {@code master.log}, {@code worker.log}, the Worker's
 * {@code work/} directory (one {@code app-…/<executorId>/stderr} per executor) and {@code spark-home/}.
 *
 * <p>All processes are stopped by PID in {@link #close()}, by a shutdown hook if the test JVM exits without
 * closing, and by the daemons themselves ({@link DieWithParent}) if the test JVM dies without its hooks.
 * Stop the sessions on the cluster before closing it.
 */
public final class LocalStandaloneCluster implements AutoCloseable {
  /** Heap of each executor JVM; the machine has room for several, its 2 cores are the scarce part. */
  public static final String EXECUTOR_MEMORY = "768m";
  /** How long {@link #startSession(String)} waits for all executors to register. */
  public static final Duration EXECUTORS_TIMEOUT = Duration.ofSeconds(90);

  private static final String LOOPBACK = "127.0.0.1";
  /** Master and Worker only pass messages: a small heap, C1 and the serial GC leave the 2 cores to the rest. */
  private static final List<String> DAEMON_JVM_FLAGS = List.of("-Xmx512m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC");
  private static final int WORKER_MEMORY_MB_PER_EXECUTOR = 1024;
  private static final Duration DAEMON_START_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration STOP_TIMEOUT = Duration.ofSeconds(20);
  private static final String MASTER_READY = "I have been elected leader";
  private static final String WORKER_READY = "Successfully registered with master";
  private static final String EXECUTOR_MAIN = "org.apache.spark.executor.CoarseGrainedExecutorBackend";
  /** Spark's own INFO-to-stderr config; the test-classes on the daemons' classpath hold a WARN one. */
  private static final String DAEMON_LOG4J_CONFIG = "org/apache/spark/log4j2-defaults.properties";
  private static final int LOG_TAIL_LINES = 30;
  /** Executor command lines (logged by the Worker and each executor) run to 10 KB. */
  private static final int MAX_LINE_CHARS = 500;

  private final int executors;
  private final Path runDir;
  private final Path testClassesDir;
  private final ClusterClasspath classpath;
  private final int masterPort;
  private final Thread shutdownHook = new Thread(this::stopProcesses, "local-standalone-cluster-stop");
  private volatile Process master;
  private volatile Process worker;
  private boolean closed;

  private LocalStandaloneCluster(
      int executors, Path runDir, Path testClassesDir, ClusterClasspath classpath, int masterPort) {
    this.executors = executors;
    this.runDir = runDir;
    this.testClassesDir = testClassesDir;
    this.classpath = classpath;
    this.masterPort = masterPort;
  }

  /**
   * Starts a Master and one Worker with {@code executors} cores and returns once the Worker has registered
   * with the Master (about 5 s on an idle 2-core machine).
   *
   * @param executors number of one-core executors a session on this cluster gets, ≥ 1
   * @throws IllegalStateException if a daemon exits or does not become ready in time; the message holds the
   *     tail of its log
   */
  public static LocalStandaloneCluster start(int executors) {
    return start(executors, Map.of());
  }

  /**
   * {@link #start(int)} with extra {@code spark.worker.*} settings for the Worker JVM (as system properties), e.g.
   * the resources it offers ({@code spark.worker.resource.gpu.amount} and its discovery script).
   */
  public static LocalStandaloneCluster start(int executors, Map<String, String> workerSettings) {
    if (executors < 1) {
      throw new IllegalArgumentException("executors: must be >= 1, got " + executors);
    }
    Path testClasses = testClassesDirectory();
    Path buildDir = testClasses.getParent();
    ClusterClasspath classpath = ClusterClasspath.of(buildDir);
    int[] ports = freeLoopbackPorts(4);
    LocalStandaloneCluster cluster = new LocalStandaloneCluster(
        executors, newRunDirectory(buildDir.resolve("standalone-cluster")), testClasses, classpath, ports[0]);
    try {
      cluster.launch(ports[1], ports[2], ports[3], workerSettings);
    } catch (RuntimeException | Error e) {
      cluster.close();
      throw e;
    }
    return cluster;
  }

  /** {@code spark://127.0.0.1:<port>}. */
  public String masterUrl() {
    return "spark://" + LOOPBACK + ":" + masterPort;
  }

  /** Number of executors a session on this cluster gets. */
  public int executors() {
    return executors;
  }

  /** This cluster's directory under {@code target/standalone-cluster/} (logs, work dir, SPARK_HOME). */
  public Path runDirectory() {
    return runDir;
  }

  /**
   * Driver configuration for this cluster: master URL, {@code executors} executors of 1 core and
   * {@value #EXECUTOR_MEMORY} each, driver bound to 127.0.0.1, UI off, the executors' extra classpath and the
   * test JVM's flags (its input arguments without heap size, agents and {@code -Dspark.*}, which Spark
   * rejects or sets itself).
   */
  public SparkConf sparkConf(String appName) {
    return new SparkConf()
        .setAppName(appName)
        .setMaster(masterUrl())
        .set("spark.executor.cores", "1")
        .set("spark.cores.max", Integer.toString(executors))
        .set("spark.executor.memory", EXECUTOR_MEMORY)
        .set("spark.driver.host", LOOPBACK)
        .set("spark.driver.bindAddress", LOOPBACK)
        .set("spark.ui.enabled", "false")
        .set("spark.executor.extraClassPath", classpath.executorExtraClassPath())
        .set("spark.executor.extraJavaOptions", executorJavaOptions());
  }

  /** A session builder configured with {@link #sparkConf(String)}; add settings, then {@code getOrCreate()}. */
  public SparkSession.Builder sessionBuilder(String appName) {
    return SparkSession.builder().config(sparkConf(appName));
  }

  /**
   * {@code sessionBuilder(appName).getOrCreate()}, then {@link #awaitExecutors(SparkContext, Duration)} with
   * {@link #EXECUTORS_TIMEOUT}; the session is stopped if the executors do not come.
   */
  public SparkSession startSession(String appName) {
    SparkSession spark = sessionBuilder(appName).getOrCreate();
    try {
      awaitExecutors(spark.sparkContext(), EXECUTORS_TIMEOUT);
    } catch (RuntimeException e) {
      spark.stop();
      throw e;
    }
    return spark;
  }

  /**
   * Waits until the driver has {@link #executors()} registered executors and the Worker has as many executor
   * processes, e.g. after a start or after
   * {@link #killExecutor(long)} until the replacement has registered.
   *
   * @throws IllegalStateException on timeout, with the tails of the master, worker and executor logs
   */
  public void awaitExecutors(SparkContext sc, Duration timeout) {
    // The scheduler backend's own list (private[spark], public in bytecode), not the status tracker's: that one
    // is fed by the listener bus and may still show an executor the backend has already dropped.
    if (!await(timeout, () -> sc.getExecutorIds().size() == executors && executorPids().size() == executors)) {
      throw new IllegalStateException(sc.getExecutorIds().size() + " of " + executors
          + " executors registered (" + executorPids().size() + " executor processes) after "
          + timeout.toSeconds() + " s\n" + diagnostics());
    }
  }

  /** PIDs of the live executor JVMs ({@code CoarseGrainedExecutorBackend}) that are children of the Worker, ascending. */
  public List<Long> executorPids() {
    Process w = worker;
    if (w == null) {
      return List.of();
    }
    return w.toHandle().children()
        .filter(ProcessHandle::isAlive)
        .filter(LocalStandaloneCluster::isExecutor)
        .map(ProcessHandle::pid)
        .sorted()
        .toList();
  }

  /**
   * Kills one executor JVM with SIGKILL (no shutdown hooks, as in a crash) and waits until it has exited.
   * The Worker then reports it lost and launches a replacement for a running application.
   *
   * @param pid one of {@link #executorPids()}
   */
  public void killExecutor(long pid) {
    List<Long> pids = executorPids();
    if (!pids.contains(pid)) {
      throw new IllegalArgumentException("pid: " + pid + " is not an executor of this cluster " + pids);
    }
    ProcessHandle executor = ProcessHandle.of(pid).orElse(null);
    if (executor == null) {
      return;
    }
    executor.destroyForcibly();
    if (!awaitExit(executor)) {
      throw new IllegalStateException("executor " + pid + " still alive " + STOP_TIMEOUT.toSeconds() + " s after SIGKILL");
    }
  }

  /** Stops the Worker (which stops its executors), any executor left, then the Master, by PID; idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    stopProcesses();
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException | IllegalArgumentException e) {
      // the JVM is already shutting down (the hook has run or is running), or the hook was never added
    }
  }

  private void launch(int masterUiPort, int workerPort, int workerUiPort, Map<String, String> workerSettings) {
    Path sparkHome = runDir.resolve("spark-home");
    try {
      classpath.linkSparkJarsInto(sparkHome.resolve("jars"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Runtime.getRuntime().addShutdownHook(shutdownHook);
    Path masterLog = runDir.resolve("master.log");
    master = startDaemon(sparkHome, masterLog, List.of("-Dspark.master.rest.enabled=false"),
        "org.apache.spark.deploy.master.Master",
        List.of("--host", LOOPBACK, "--port", Integer.toString(masterPort),
            "--webui-port", Integer.toString(masterUiPort)));
    awaitLogLine("Master", master, masterLog, MASTER_READY);
    Path workerLog = runDir.resolve("worker.log");
    List<String> workerProperties = new ArrayList<>();
    workerSettings.forEach((k, v) -> workerProperties.add("-D" + k + "=" + v));
    worker = startDaemon(sparkHome, workerLog, workerProperties, "org.apache.spark.deploy.worker.Worker",
        List.of("--host", LOOPBACK, "--port", Integer.toString(workerPort),
            "--webui-port", Integer.toString(workerUiPort),
            "--cores", Integer.toString(executors),
            "--memory", executors * WORKER_MEMORY_MB_PER_EXECUTOR + "m",
            "--work-dir", runDir.resolve("work").toString(),
            masterUrl()));
    awaitLogLine("Worker", worker, workerLog, WORKER_READY);
  }

  /** Starts {@code mainClass} under {@link DieWithParent}, output (both streams) appended to {@code log}. */
  private Process startDaemon(Path sparkHome, Path log, List<String> systemProperties, String mainClass,
      List<String> args) {
    String javaHome = System.getProperty("java.home");
    List<String> command = new ArrayList<>();
    command.add(Path.of(javaHome, "bin", "java").toString());
    command.addAll(DAEMON_JVM_FLAGS);
    command.addAll(Arrays.asList(JavaModuleOptions.defaultModuleOptionArray()));
    command.add("-Djava.io.tmpdir=" + runDir);
    command.add("-Dlog4j2.configurationFile=" + DAEMON_LOG4J_CONFIG);
    command.addAll(systemProperties);
    command.add("-cp");
    command.add(sparkHome.resolve("jars") + "/*" + File.pathSeparator + testClassesDir);
    command.add(DieWithParent.class.getName());
    command.add(Long.toString(ProcessHandle.current().pid()));
    command.add(mainClass);
    command.addAll(args);
    ProcessBuilder builder = new ProcessBuilder(command)
        .directory(runDir.toFile())
        .redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
    Map<String, String> env = builder.environment();
    env.put("SPARK_HOME", sparkHome.toString());
    env.put("SPARK_LOCAL_IP", LOOPBACK);
    // Without it the Worker cannot build executor command lines ("Cannot find any build directories").
    env.put("SPARK_SCALA_VERSION", "2.13");
    // Executors run on the test's JDK, whatever JAVA_HOME the build was started with.
    env.put("JAVA_HOME", javaHome);
    try {
      Process process = builder.start();
      process.getOutputStream().close();
      return process;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + mainClass, e);
    }
  }

  private void awaitLogLine(String name, Process process, Path log, String line) {
    await(DAEMON_START_TIMEOUT, () -> readOrEmpty(log).contains(line) || !process.isAlive());
    if (readOrEmpty(log).contains(line)) {
      return;
    }
    if (!process.isAlive()) {
      throw new IllegalStateException(name + " (pid " + process.pid() + ") exited with status "
          + process.exitValue() + " before logging \"" + line + "\"\n" + tail(log));
    }
    throw new IllegalStateException(name + " (pid " + process.pid() + ") did not log \"" + line + "\" within "
        + DAEMON_START_TIMEOUT.toSeconds() + " s\n" + tail(log));
  }

  private synchronized void stopProcesses() {
    if (worker != null) {
      // Listed before the Worker goes: afterwards they are no longer its children.
      List<ProcessHandle> executorsLeft = worker.toHandle().descendants().toList();
      stop(worker.toHandle());
      executorsLeft.forEach(LocalStandaloneCluster::stop);
    }
    if (master != null) {
      stop(master.toHandle());
    }
  }

  /** SIGTERM, then SIGKILL if the process is still alive after {@link #STOP_TIMEOUT}. */
  private static void stop(ProcessHandle process) {
    if (!process.isAlive()) {
      return;
    }
    process.destroy();
    if (!awaitExit(process)) {
      process.destroyForcibly();
      awaitExit(process);
    }
  }

  private static boolean awaitExit(ProcessHandle process) {
    try {
      process.onExit().get(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (ExecutionException e) {
      throw new IllegalStateException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for pid " + process.pid(), e);
    }
  }

  /**
   * Reads {@code /proc/<pid>/cmdline} itself: {@link ProcessHandle.Info} gives up on command lines over one
   * page (4 KiB), and an executor's classpath alone is longer.
   */
  private static boolean isExecutor(ProcessHandle process) {
    try {
      byte[] cmdline = Files.readAllBytes(Path.of("/proc", Long.toString(process.pid()), "cmdline"));
      return new String(cmdline, StandardCharsets.ISO_8859_1).contains("\0" + EXECUTOR_MAIN + "\0");
    } catch (IOException e) {
      return false; // exited meanwhile
    }
  }

  /** Tails of the master and worker logs and of every executor's stderr. */
  private String diagnostics() {
    StringBuilder out = new StringBuilder()
        .append(tail(runDir.resolve("master.log")))
        .append(tail(runDir.resolve("worker.log")));
    Path work = runDir.resolve("work");
    if (Files.isDirectory(work)) {
      try (Stream<Path> files = Files.walk(work)) {
        files.filter(p -> p.getFileName().toString().equals("stderr")).sorted().forEach(p -> out.append(tail(p)));
      } catch (IOException e) {
        out.append("(cannot list ").append(work).append(": ").append(e).append(")\n");
      }
    }
    return out.toString();
  }

  private static String tail(Path log) {
    List<String> lines = readOrEmpty(log).lines()
        .map(l -> l.length() <= MAX_LINE_CHARS ? l : l.substring(0, MAX_LINE_CHARS) + " …")
        .toList();
    List<String> last = lines.subList(Math.max(0, lines.size() - LOG_TAIL_LINES), lines.size());
    return "--- last " + last.size() + " lines of " + log + " ---\n" + String.join("\n", last) + "\n";
  }

  private static String readOrEmpty(Path file) {
    try {
      return Files.exists(file) ? new String(Files.readAllBytes(file), StandardCharsets.UTF_8) : "";
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The test JVM's flags for the executors: its input arguments (surefire's argLine) without
   * {@code -Xmx}/{@code -Xms} (Spark sets the heap and rejects -Xmx), agents (a debugger's port would clash),
   * {@code -Dspark.*} (rejected by Spark) and Spark's JavaModuleOptions (the Worker adds those itself).
   */
  private static String executorJavaOptions() {
    List<String> sparkAdds = Arrays.asList(JavaModuleOptions.defaultModuleOptionArray());
    List<String> options = new ArrayList<>();
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("-Xmx") || arg.startsWith("-Xms") || arg.startsWith("-javaagent")
          || arg.startsWith("-agentlib") || arg.startsWith("-agentpath") || arg.startsWith("-Dspark.")
          || sparkAdds.contains(arg)) {
        continue;
      }
      options.add(arg.chars().anyMatch(Character::isWhitespace) ? "'" + arg + "'" : arg);
    }
    return String.join(" ", options);
  }

  private static Path testClassesDirectory() {
    try {
      return Path.of(LocalStandaloneCluster.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  private static Path newRunDirectory(Path parent) {
    String stamp = LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS"));
    try {
      Files.createDirectories(parent);
      for (int k = 0; ; k++) {
        Path dir = parent.resolve(k == 0 ? stamp : stamp + "-" + k);
        try {
          return Files.createDirectory(dir);
        } catch (FileAlreadyExistsException e) {
          // another cluster started in the same millisecond
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Distinct free ports on 127.0.0.1 (all held open together while picking, so they differ). */
  private static int[] freeLoopbackPorts(int count) {
    List<ServerSocket> sockets = new ArrayList<>();
    try {
      InetAddress loopback = InetAddress.getByName(LOOPBACK);
      int[] ports = new int[count];
      for (int i = 0; i < count; i++) {
        ServerSocket socket = new ServerSocket(0, 1, loopback);
        sockets.add(socket);
        ports[i] = socket.getLocalPort();
      }
      return ports;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      for (ServerSocket socket : sockets) {
        try {
          socket.close();
        } catch (IOException e) {
          // nothing bound to it any more either way
        }
      }
    }
  }

  /** {@link Eventually#waitUntil} for callers that do not declare {@link InterruptedException}. */
  private static boolean await(Duration timeout, BooleanSupplier condition) {
    try {
      return Eventually.waitUntil(timeout, condition);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
