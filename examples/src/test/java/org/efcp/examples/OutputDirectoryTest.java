package org.efcp.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OutputDirectoryTest {

  @TempDir
  Path tmp;

  private List<String> names() throws IOException {
    try (Stream<Path> s = Files.list(tmp)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void nothingExistsUntilCommitAndThenOnlyTheTarget() throws IOException {
    Path target = tmp.resolve("out");
    OutputDirectory out = OutputDirectory.check("--output", target);
    assertEquals(List.of(), names());
    Files.writeString(out.staging().resolve(OutputDirectory.MARKER), "{}");
    assertFalse(Files.exists(target));
    out.commit();
    assertEquals(List.of("out"), names());
    assertEquals("{}", Files.readString(target.resolve(OutputDirectory.MARKER)));
  }

  @Test
  void anEarlierOutputIsReplacedWhole() throws IOException {
    Path target = Files.createDirectories(tmp.resolve("out"));
    Files.writeString(target.resolve(OutputDirectory.MARKER), "old");
    Files.writeString(target.resolve("stale.png"), "old");
    OutputDirectory out = OutputDirectory.check("--output", target);
    Files.writeString(out.staging().resolve(OutputDirectory.MARKER), "new");
    out.commit();
    assertEquals(List.of("out"), names());
    assertEquals("new", Files.readString(target.resolve(OutputDirectory.MARKER)));
    assertFalse(Files.exists(target.resolve("stale.png")));
  }

  @Test
  void discardLeavesTheTargetAsItWas() throws IOException {
    Path target = Files.createDirectories(tmp.resolve("out"));
    Files.writeString(target.resolve(OutputDirectory.MARKER), "old");
    OutputDirectory out = OutputDirectory.check("--output", target);
    Files.writeString(out.staging().resolve("half-written"), "x");
    out.discard();
    assertEquals(List.of("out"), names());
    assertEquals("old", Files.readString(target.resolve(OutputDirectory.MARKER)));
  }

  @Test
  void unrelatedFilesAndDirectoriesAreRefusedUnderTheFlag() throws IOException {
    Path file = Files.writeString(tmp.resolve("file"), "x");
    Path foreign = Files.createDirectories(tmp.resolve("src"));
    Files.writeString(foreign.resolve("Main.java"), "x");
    for (Path p : List.of(file, foreign)) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> OutputDirectory.check("--output", p));
      assertTrue(e.getMessage().startsWith("--output: " + p), e.getMessage());
    }
    assertTrue(Files.exists(foreign.resolve("Main.java")));
  }
}
