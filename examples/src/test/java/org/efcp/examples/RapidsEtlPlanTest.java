package org.efcp.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The linear-probing job's input ETL under the RAPIDS Accelerator, on a machine without a GPU: {@link RapidsEtlPlanApp}
 * is submitted through {@code SparkSubmit} (what {@code spark-submit} runs) with conf/spark-defaults.conf and
 * conf/spark-rapids.conf layered as users layer them, the RAPIDS jar through {@code --jars}, and
 * {@code spark.rapids.sql.mode=explainOnly} (in the default mode the plugin stops a JVM that has no GPU); the plugin's
 * plan explanation is read from the application's log (conf/log4j2.properties).
 *
 * <p>Observed with RAPIDS 26.08.1 on Spark 4.2.0: the Parquet scan and the null filter would run on the GPU; the
 * projection (label cast, width check, array-to-vector UDF) stays on the CPU because its output column is an ML
 * vector ({@code VectorUDT}), a type the plugin does not handle; every expression in it is supported.
 *
 * <p>Needs the system property {@code rapids.jar} (set by the {@code rapids} Maven profile, which downloads the 1 GB
 * jar).
 */
@Tag("rapids")
class RapidsEtlPlanTest {

  private static final int WIDTH = 768;
  private static final Path CONF = Path.of("..", "conf").toAbsolutePath().normalize();
  private static final Path WORK = Path.of("target", "rapids-etl-plan").toAbsolutePath();
  private static final long SUBMIT_TIMEOUT_SECONDS = 600;
  /** What the command line sets over the conf files. */
  private static final Map<String, String> OVERRIDES = Map.of(
      "spark.rapids.sql.mode", "explainOnly",
      "spark.rapids.sql.explain", "ALL",
      "spark.driver.host", "127.0.0.1",
      "spark.driver.bindAddress", "127.0.0.1",
      "spark.ui.enabled", "false");
  /** One line of the plugin's explanation: marker, kind, {@code <Operator>}, the rest. */
  private static final Pattern EXPLAIN_LINE = Pattern.compile("^\\s*([*!@^])(Exec|Expression|Output|) <(\\w+)> (.*)$");

  private static int exitCode;
  private static List<String> log;
  private static List<String> plan;

  @BeforeAll
  static void submitTheEtlWithThePluginInExplainOnlyMode() throws IOException, InterruptedException {
    String jar = System.getProperty("rapids.jar");
    assertNotNull(jar, "rapids.jar: not set; run with the rapids profile (mvn -Prapids -pl examples -am test "
        + "-Dgroups=rapids)");
    assertTrue(Files.isRegularFile(Path.of(jar)), "rapids.jar: no file at " + jar);
    Files.createDirectories(WORK);
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // The test JVM's flags: Spark's module flags, -Xss16m, java.io.tmpdir under target/.
    cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
    cmd.add("-Dlog4j.configurationFile=" + CONF.resolve("log4j2.properties"));
    cmd.add("-cp");
    cmd.add(System.getProperty("surefire.test.class.path"));
    cmd.add("org.apache.spark.deploy.SparkSubmit");
    cmd.addAll(List.of("--master", "local[2]",
        "--properties-file", CONF.resolve("spark-defaults.conf").toString(),
        "--extra-properties-file", CONF.resolve("spark-rapids.conf").toString(),
        "--jars", jar));
    OVERRIDES.forEach((k, v) -> cmd.addAll(List.of("--conf", k + "=" + v)));
    cmd.addAll(List.of("--class", RapidsEtlPlanApp.class.getName(), "spark-internal",
        WORK.resolve("input.parquet").toString(), Integer.toString(WIDTH)));
    Path out = WORK.resolve("submit.log");
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
    try {
      assertTrue(p.waitFor(SUBMIT_TIMEOUT_SECONDS, TimeUnit.SECONDS),
          "SparkSubmit did not finish in " + SUBMIT_TIMEOUT_SECONDS + " s; log: " + out);
    } finally {
      p.destroyForcibly();
    }
    exitCode = p.exitValue();
    log = Files.readAllLines(out, StandardCharsets.UTF_8);
    int begin = log.indexOf(RapidsEtlPlanApp.BEGIN);
    int end = log.indexOf(RapidsEtlPlanApp.END);
    plan = begin >= 0 && end > begin
        ? log.subList(begin + 1, end).stream().filter(l -> EXPLAIN_LINE.matcher(l).matches()).toList()
        : List.of();
  }

  @Test
  void applicationExitsNormallyAndTheEtlDropsNullRowsAndBuildsVectorsOfTheFeatureWidth() {
    assertEquals(0, exitCode, "SparkSubmit exit code; log: " + WORK.resolve("submit.log"));
    // The input holds ROWS complete rows plus one row with null features and one with a null label.
    assertTrue(log.contains("etl rows=" + RapidsEtlPlanApp.ROWS + " width=" + WIDTH), tail());
  }

  @Test
  void everySettingOfTheConfFilesReachesTheSessionAndTheCommandLineWins() throws IOException {
    Map<String, String> expected = new HashMap<>();
    expected.putAll(read(CONF.resolve("spark-defaults.conf")));
    expected.putAll(read(CONF.resolve("spark-rapids.conf")));
    expected.putAll(OVERRIDES);
    // SparkSubmit puts Spark's own module flags in front of the Java options.
    Map<String, String> session = sessionConf();
    expected.forEach((key, value) -> {
      String actual = session.get(key);
      assertNotNull(actual, key + ": not in the session" + "; " + tail());
      assertTrue(key.endsWith("extraJavaOptions") ? actual.endsWith(value) : actual.equals(value),
          key + ": expected " + value + ", session has " + actual);
    });
  }

  @Test
  void everyRapidsSettingOfSparkRapidsConfIsOneThePluginDeclares() throws IOException {
    byte[] declarations;
    try (ZipFile jar = new ZipFile(System.getProperty("rapids.jar"))) {
      ZipEntry entry = jar.getEntry("spark420/com/nvidia/spark/rapids/RapidsConf$.class");
      assertNotNull(entry, "the jar has no RapidsConf for Spark 4.2.0");
      try (InputStream in = jar.getInputStream(entry)) {
        declarations = in.readAllBytes();
      }
    }
    for (String key : read(CONF.resolve("spark-rapids.conf")).keySet()) {
      if (key.startsWith("spark.rapids.")) {
        assertTrue(declaresString(declarations, key), key + ": not a setting of RAPIDS 26.08.1 (ignored silently)");
      }
    }
  }

  @Test
  void parquetScanAndNullFilterWouldRunOnTheGpu() {
    assertOperator("FileSourceScanExec", "*", "will run on GPU");
    assertOperator("FilterExec", "*", "will run on GPU");
    assertOperator("IsNotNull", "*", "will run on GPU");
  }

  @Test
  void projectionStaysOnTheCpuOnlyBecauseItsOutputIsAnMlVector() {
    assertOperator("ProjectExec", "!", "cannot run on GPU because unsupported data types in output: "
        + "org.apache.spark.ml.linalg.VectorUDT");
    List<String> refused = plan.stream().filter(l -> l.trim().startsWith("!")).toList();
    assertEquals(1, refused.size(), "only the ProjectExec should be refused:\n" + String.join("\n", plan));
    // The label cast could run on the GPU; the plugin would evaluate the array-to-vector UDF on the CPU.
    assertOperator("Cast", "@", "cast(label");
    assertOperator("ScalaUDF", "^", "will run on GPU via CPU bridge");
  }

  /** Asserts that the ETL's explanation has a line for {@code operator} with this marker and text. */
  private static void assertOperator(String operator, String marker, String text) {
    boolean found = plan.stream().map(EXPLAIN_LINE::matcher).filter(Matcher::matches)
        .anyMatch(m -> m.group(3).equals(operator) && m.group(1).equals(marker) && m.group(4).contains(text));
    assertTrue(found, "no line '" + marker + " <" + operator + "> ..." + text + "' in the ETL's explanation:\n"
        + String.join("\n", plan) + "\n" + tail());
  }

  /** Whether a class file's constant pool holds this ASCII string (a CONSTANT_Utf8 entry: tag 1, length, bytes). */
  private static boolean declaresString(byte[] classFile, String s) {
    // ISO-8859-1 maps every byte to one char, so byte search becomes String.contains.
    String entry = (char) 1 + "" + (char) (s.length() >>> 8) + (char) (s.length() & 0xff) + s;
    return new String(classFile, StandardCharsets.ISO_8859_1).contains(entry);
  }

  private static Map<String, String> sessionConf() {
    Map<String, String> conf = new HashMap<>();
    for (String line : log) {
      if (line.startsWith("conf ")) {
        int eq = line.indexOf('=');
        conf.put(line.substring(5, eq), line.substring(eq + 1));
      }
    }
    return conf;
  }

  private static Map<String, String> read(Path file) throws IOException {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    }
    return p.stringPropertyNames().stream().collect(Collectors.toMap(k -> k, k -> p.getProperty(k).trim()));
  }

  private static String tail() {
    return "log tail:\n" + String.join("\n", log.subList(Math.max(0, log.size() - 40), log.size()));
  }
}
