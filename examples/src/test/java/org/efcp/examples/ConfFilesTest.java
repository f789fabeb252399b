package org.efcp.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.List;
import java.util.Properties;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.spark.internal.config.ConfigEntry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The Spark conf files name only settings Spark knows and fit together; conf/log4j2.properties logs what it says. */
class ConfFilesTest {

  private static final Path CONF = Path.of("..", "conf").toAbsolutePath().normalize();
  /**
   * Settings Spark reads by prefix, without a registered entry per key; the RAPIDS plugin's own settings are checked
   * against the plugin by RapidsEtlPlanTest.
   */
  private static final List<String> DYNAMIC_PREFIXES = List.of("spark.executorEnv.", "spark.driver.resource.",
      "spark.executor.resource.", "spark.task.resource.", "spark.worker.resource.", "spark.rapids.");

  @ParameterizedTest
  @ValueSource(strings = {"spark-defaults.conf", "spark-gpu.conf", "spark-rapids.conf"})
  void everyKeyIsASettingSparkKnows(String file) throws Exception {
    registerSparkCoreConfigEntries();
    Properties conf = load(CONF.resolve(file));
    assertFalse(conf.isEmpty(), file + " is empty");
    for (String key : conf.stringPropertyNames()) {
      boolean known = ConfigEntry.findEntry(key) != null || DYNAMIC_PREFIXES.stream().anyMatch(key::startsWith);
      assertTrue(known, file + ": " + key + " is not a Spark setting (Spark ignores unknown keys silently)");
    }
  }

  @Test
  void sparkDefaultsGiveEveryJvmTheVectorModuleAndLargeStacksAndOneBlasThreadPerTask() throws IOException {
    Properties conf = load(CONF.resolve("spark-defaults.conf"));
    for (String key : List.of("spark.driver.extraJavaOptions", "spark.executor.extraJavaOptions")) {
      List<String> flags = List.of(conf.getProperty(key).trim().split("\\s+"));
      assertEquals("-XX:+IgnoreUnrecognizedVMOptions", flags.get(0), key);
      assertTrue(flags.contains("--add-modules=jdk.incubator.vector"), key + ": " + flags);
      assertTrue(flags.contains("-Xss16m"), key + ": " + flags);
    }
    assertEquals("1", conf.getProperty("spark.executorEnv.OPENBLAS_NUM_THREADS"));
  }

  @Test
  void gpuConfGivesEveryExecutorCoreAShareOfTheExecutorsGpu() throws IOException {
    Properties conf = load(CONF.resolve("spark-gpu.conf"));
    double perExecutor = Double.parseDouble(conf.getProperty("spark.executor.resource.gpu.amount").trim());
    double perTask = Double.parseDouble(conf.getProperty("spark.task.resource.gpu.amount").trim());
    int cores = Integer.parseInt(conf.getProperty("spark.executor.cores").trim());
    assertEquals(cores, perExecutor / perTask, 1e-9, "tasks the GPU admits per executor vs executor cores");
  }

  @Test
  void log4jConfigKeepsEfcpProgressAndRapidsExplanationsAndQuietsSpark() {
    LoggerContext ctx = new LoggerContext("ConfFilesTest", null, CONF.resolve("log4j2.properties").toUri());
    ctx.start();
    try {
      assertNotNull(ctx.getConfiguration().getAppender("console"), "console appender");
      assertTrue(ctx.getLogger("org.efcp.ml.train.EfcpTrainer").isInfoEnabled(), "org.efcp at INFO");
      assertFalse(ctx.getLogger("org.apache.spark.SparkContext").isInfoEnabled(), "Spark below WARN");
      assertTrue(ctx.getLogger("org.apache.spark.SparkContext").isWarnEnabled(), "Spark warnings");
      assertFalse(ctx.getLogger("org.apache.hadoop.conf.Configuration").isInfoEnabled(), "Hadoop below WARN");
      assertEquals(Level.ERROR, ctx.getLogger("org.apache.parquet.hadoop.ParquetOutputFormat").getLevel());
      assertEquals(Level.ERROR, ctx.getLogger("org.apache.hadoop.util.NativeCodeLoader").getLevel());
      // spark.rapids.sql.explain lines ("!Exec <ProjectExec> cannot run on GPU ...") are WARN.
      assertTrue(ctx.getLogger("com.nvidia.spark.rapids.GpuOverrides").isWarnEnabled(), "RAPIDS explanations");
    } finally {
      ctx.stop();
    }
  }

  private static Properties load(Path file) throws IOException {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      p.load(r);
    }
    return p;
  }

  /**
   * Spark registers a setting's entry when the Scala object declaring it initialises; initialises every config object
   * of spark-core ({@code org.apache.spark.internal.config.package}, {@code UI}, {@code Kryo}, ...).
   */
  private static void registerSparkCoreConfigEntries() throws Exception {
    Class<?> pkg = Class.forName("org.apache.spark.internal.config.package$");
    Path jar = Path.of(pkg.getProtectionDomain().getCodeSource().getLocation().toURI());
    try (JarFile jf = new JarFile(jar.toFile())) {
      Enumeration<JarEntry> entries = jf.entries();
      while (entries.hasMoreElements()) {
        String name = entries.nextElement().getName();
        if (name.matches("org/apache/spark/internal/config/\\w+\\$\\.class")) {
          Class.forName(name.substring(0, name.length() - ".class".length()).replace('/', '.'));
        }
      }
    }
  }
}
