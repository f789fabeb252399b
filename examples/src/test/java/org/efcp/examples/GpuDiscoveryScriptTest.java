package org.efcp.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import org.apache.spark.SparkContext;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * conf/gpu-discovery.sh against fake {@code nvidia-smi} programs on the PATH, its output read back with Spark's own
 * parser, and conf/spark-gpu.conf's driver settings in a real SparkContext that runs the script.
 */
class GpuDiscoveryScriptTest {

  private static final Path CONF = Path.of("..", "conf").toAbsolutePath().normalize();
  private static final Path SCRIPT = CONF.resolve("gpu-discovery.sh");
  private static final Path WORK = Path.of("target", "gpu-discovery-test").toAbsolutePath();
  /** The query the script must send; the fakes answer nothing else. */
  private static final String QUERY = "--query-gpu=index --format=csv,noheader";

  @BeforeAll
  static void createWorkDir() throws IOException {
    Files.createDirectories(WORK);
  }

  @Test
  void listsEveryGpuIndexThatNvidiaSmiReports() throws Exception {
    Path bin = fakeNvidiaSmi("two-gpus", "printf '0\\n1\\n'", 0);
    ResourceInformation gpus = ResourceInformation.parseJson(discover(bin));
    assertEquals("gpu", gpus.name());
    assertArrayEquals(new String[] {"0", "1"}, gpus.addresses());
  }

  @Test
  void printsTheJsonSparkDocumentsWithOneGpu() throws Exception {
    assertEquals("{\"name\":\"gpu\",\"addresses\":[\"0\"]}", discover(fakeNvidiaSmi("one-gpu", "echo 0", 0)));
  }

  @Test
  void keepsOnlyIndexLinesWhenNvidiaSmiAlsoPrintsWarnings() throws Exception {
    Path bin = fakeNvidiaSmi("warnings",
        "printf '0\\r\\nWARNING: infoROM is corrupted at gpu 0000:00:04.0\\n 3 \\n\\n'", 0);
    assertArrayEquals(new String[] {"0", "3"}, ResourceInformation.parseJson(discover(bin)).addresses());
  }

  @Test
  void printsAnEmptyListWhenNvidiaSmiFails() throws Exception {
    Path bin = fakeNvidiaSmi("no-driver",
        "echo \"NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. 0\"", 9);
    assertEquals("{\"name\":\"gpu\",\"addresses\":[]}", discover(bin));
  }

  @Test
  void printsAnEmptyListWithoutNvidiaSmi() throws Exception {
    Path empty = Files.createDirectories(WORK.resolve("empty-bin"));
    ResourceInformation gpus = ResourceInformation.parseJson(discover(empty));
    assertEquals("gpu", gpus.name());
    assertEquals(0, gpus.addresses().length);
  }

  @Test
  void driverOfSparkGpuConfGetsTheGpusTheScriptFinds() throws Exception {
    Path bin = fakeNvidiaSmi("driver-gpus", "printf '0\\n1\\n'", 0);
    // Spark runs the script with its own environment: a wrapper puts the fake first on the PATH.
    Path wrapper = executable(WORK.resolve("discover-with-fake.sh"),
        "#!/bin/sh\nPATH='" + bin + "':\"$PATH\" exec '" + SCRIPT + "'\n");
    Properties gpuConf = new Properties();
    try (Reader r = Files.newBufferedReader(CONF.resolve("spark-gpu.conf"), StandardCharsets.UTF_8)) {
      gpuConf.load(r);
    }
    assertEquals("conf/gpu-discovery.sh", gpuConf.getProperty("spark.driver.resource.gpu.discoveryScript"));
    SparkSession.Builder builder = SparkSession.builder()
        .master("local[2]")
        .appName("GpuDiscoveryScriptTest")
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false");
    for (String key : gpuConf.stringPropertyNames()) {
      builder.config(key, gpuConf.getProperty(key).trim());
    }
    SparkSession spark = builder.config("spark.driver.resource.gpu.discoveryScript", wrapper.toString()).getOrCreate();
    try {
      SparkContext sc = spark.sparkContext();
      ResourceInformation gpus = sc.resources().get("gpu").get();
      assertArrayEquals(new String[] {"0", "1"}, gpus.addresses());
    } finally {
      spark.stop();
    }
  }

  /**
   * Runs the script with only {@code bin} on the PATH, so that a real nvidia-smi cannot answer (the script needs
   * nothing else; bash is named here because the PATH cannot find it).
   */
  private static String discover(Path bin) throws IOException, InterruptedException {
    // Spark runs the script itself, through its #! line.
    assertTrue(Files.isExecutable(SCRIPT), SCRIPT + " is not executable");
    ProcessBuilder pb = new ProcessBuilder("/bin/bash", SCRIPT.toString()).redirectErrorStream(true);
    pb.environment().put("PATH", bin.toString());
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(30, TimeUnit.SECONDS), "discovery script did not finish");
    assertEquals(0, p.exitValue(), "exit code; output: " + out);
    List<String> lines = out.lines().toList();
    assertEquals(1, lines.size(), "one line of JSON expected: " + out);
    return lines.get(0);
  }

  /**
   * A directory holding an {@code nvidia-smi} that runs {@code body} and exits with {@code exitCode} when asked
   * {@link #QUERY}, and fails with 64 for any other arguments.
   */
  private static Path fakeNvidiaSmi(String name, String body, int exitCode) throws IOException {
    Path bin = Files.createDirectories(WORK.resolve(name));
    executable(bin.resolve("nvidia-smi"), "#!/bin/sh\n"
        + "[ \"$*\" = '" + QUERY + "' ] || { echo \"unexpected arguments: $*\" >&2; exit 64; }\n"
        + body + "\nexit " + exitCode + "\n");
    return bin;
  }

  private static Path executable(Path file, String text) throws IOException {
    Files.writeString(file, text, StandardCharsets.UTF_8);
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    return file;
  }
}
