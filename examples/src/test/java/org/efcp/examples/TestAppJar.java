package org.efcp.examples;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;

/**
 * The spark-submit application jar for tests, built from this module's classes and its runtime dependencies as
 * {@code target/app-classpath.txt} lists them (maven-dependency-plugin, generate-test-resources): the same
 * content as the shaded {@code target/efcp-examples.jar}, which only exists after {@code package}, after the
 * tests. In a reactor build the dependencies are classes directories, so this merges directories and jars:
 * first occurrence of an entry wins, {@code META-INF/services} files are concatenated (as the shade plugin's
 * ServicesResourceTransformer does), signatures and manifests are dropped.
 */
final class TestAppJar {

  private TestAppJar() {
  }

  /** Writes the jar to {@code out} (replacing it) and returns {@code out}. */
  static Path build(Path buildDir, Path out) throws IOException {
    List<Path> sources = new ArrayList<>();
    sources.add(buildDir.resolve("classes"));
    String listed = Files.readString(buildDir.resolve("app-classpath.txt")).trim();
    for (String entry : listed.split(java.io.File.pathSeparator)) {
      if (!entry.isEmpty()) {
        sources.add(Path.of(entry));
      }
    }
    Set<String> written = new HashSet<>();
    Map<String, StringBuilder> services = new LinkedHashMap<>();
    Files.createDirectories(out.getParent());
    try (JarOutputStream jar = new JarOutputStream(Files.newOutputStream(out))) {
      for (Path source : sources) {
        if (Files.isDirectory(source)) {
          try (Stream<Path> files = Files.walk(source)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
              String name = source.relativize(f).toString().replace(java.io.File.separatorChar, '/');
              try (InputStream in = Files.newInputStream(f)) {
                add(jar, name, in, written, services);
              }
            }
          }
        } else {
          try (JarFile dependency = new JarFile(source.toFile())) {
            Enumeration<JarEntry> entries = dependency.entries();
            while (entries.hasMoreElements()) {
              JarEntry e = entries.nextElement();
              if (!e.isDirectory()) {
                try (InputStream in = dependency.getInputStream(e)) {
                  add(jar, e.getName(), in, written, services);
                }
              }
            }
          }
        }
      }
      for (Map.Entry<String, StringBuilder> s : services.entrySet()) {
        jar.putNextEntry(new JarEntry(s.getKey()));
        jar.write(s.getValue().toString().getBytes(StandardCharsets.UTF_8));
        jar.closeEntry();
      }
    }
    return out;
  }

  private static void add(JarOutputStream jar, String name, InputStream in, Set<String> written,
      Map<String, StringBuilder> services) throws IOException {
    String upper = name.toUpperCase(java.util.Locale.ROOT);
    if (upper.equals("META-INF/MANIFEST.MF") || upper.endsWith(".SF") || upper.endsWith(".DSA")
        || upper.endsWith(".RSA") || name.equals("module-info.class")) {
      return;
    }
    if (name.startsWith("META-INF/services/")) {
      String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      services.computeIfAbsent(name, k -> new StringBuilder()).append(text.endsWith("\n") ? text : text + "\n");
      return;
    }
    if (!written.add(name)) {
      return;
    }
    jar.putNextEntry(new JarEntry(name));
    in.transferTo((OutputStream) jar);
    jar.closeEntry();
  }
}
