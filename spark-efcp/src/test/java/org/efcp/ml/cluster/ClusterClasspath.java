package org.efcp.ml.cluster;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The two halves of the test classpath a local standalone cluster needs: Spark's jars (the provided-scope
 * closure that the pom writes to {@code target/spark-classpath.txt}), which become {@code SPARK_HOME/jars},
 * and everything else the test JVM has (this module's classes and test classes, efcp-core and rapids-kernels
 * as classes directories in the reactor or as jars with {@code -pl}, BLAS, JCuda, test libraries), which the
 * executors get through {@code spark.executor.extraClassPath}. Executors thus see the same classes as the
 * driver.
 */
final class ClusterClasspath {
  /** Written by maven-dependency-plugin:build-classpath in generate-test-resources (spark-efcp/pom.xml). */
  static final String SPARK_CLASSPATH_FILE = "spark-classpath.txt";

  private final List<Path> sparkJars;
  private final List<Path> executorExtras;

  private ClusterClasspath(List<Path> sparkJars, List<Path> executorExtras) {
    this.sparkJars = List.copyOf(sparkJars);
    this.executorExtras = List.copyOf(executorExtras);
  }

  /**
   * Splits the surefire test classpath ({@code surefire.test.class.path}, else {@code java.class.path}) by the
   * Spark jar list in {@code buildDir}.
   *
   * @throws IllegalStateException if the Spark jar list is missing (the build did not run generate-test-resources)
   */
  static ClusterClasspath of(Path buildDir) {
    Path listFile = buildDir.resolve(SPARK_CLASSPATH_FILE);
    if (!Files.isRegularFile(listFile)) {
      throw new IllegalStateException(listFile + " is missing: run the tests through Maven (its "
          + "generate-test-resources phase writes it with maven-dependency-plugin:build-classpath)");
    }
    Set<Path> spark;
    try {
      spark = existingEntries(Files.readString(listFile).trim());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    String testPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<Path> extras = new ArrayList<>();
    for (Path entry : existingEntries(testPath)) {
      if (!spark.contains(entry)) {
        extras.add(entry);
      }
    }
    return new ClusterClasspath(new ArrayList<>(spark), extras);
  }

  /** Spark's jars (absolute, symlinks resolved), in Maven's order. */
  List<Path> sparkJars() {
    return sparkJars;
  }

  /** The test classpath entries that are not Spark's jars, in classpath order. */
  List<Path> executorExtras() {
    return executorExtras;
  }

  /** {@link #executorExtras()} as a classpath string. */
  String executorExtraClassPath() {
    List<String> parts = new ArrayList<>();
    for (Path p : executorExtras) {
      parts.add(p.toString());
    }
    return String.join(File.pathSeparator, parts);
  }

  /**
   * Fills {@code jarsDir} with symlinks to {@link #sparkJars()} (instead of copying 300 MB); a file name that
   * occurs twice gets a numeric prefix.
   */
  void linkSparkJarsInto(Path jarsDir) throws IOException {
    Files.createDirectories(jarsDir);
    for (Path jar : sparkJars) {
      String name = jar.getFileName().toString();
      Path link = jarsDir.resolve(name);
      for (int k = 1; Files.exists(link, LinkOption.NOFOLLOW_LINKS); k++) {
        link = jarsDir.resolve(k + "-" + name);
      }
      Files.createSymbolicLink(link, jar);
    }
  }

  private static Set<Path> existingEntries(String classpath) {
    Set<Path> entries = new LinkedHashSet<>();
    for (String part : classpath.split(File.pathSeparator)) {
      if (part.isEmpty()) {
        continue;
      }
      Path p = Path.of(part).toAbsolutePath();
      if (Files.exists(p)) {
        try {
          entries.add(p.toRealPath());
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    return entries;
  }
}
