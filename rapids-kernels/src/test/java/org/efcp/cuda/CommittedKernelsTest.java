package org.efcp.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** The committed fatbins were built from the current sources, with the required code in them. No GPU needed. */
class CommittedKernelsTest {
  private static final String STALE = "the committed fatbins are stale: run "
      + "rapids-kernels/src/main/cuda/build-fatbins.sh rapids-kernels/src/main/resources/org/efcp/cuda";

  @Test
  void committedHashListMatchesTheCurrentSources() throws Exception {
    List<Path> sources = new ArrayList<>(KernelSources.files(KernelSources.cudaDir(), ".cu"));
    sources.addAll(KernelSources.files(KernelSources.cudaDir(), ".cuh"));
    sources.sort((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()));
    StringBuilder expected = new StringBuilder();
    for (Path p : sources) {
      expected.append(sha256(Files.readAllBytes(p))).append("  ").append(p.getFileName()).append('\n');
    }
    Path committed = KernelSources.committedDir().resolve("kernels.sha256");
    assertTrue(Files.isRegularFile(committed), STALE + " (no " + committed + ")");
    assertEquals(expected.toString(), Files.readString(committed, StandardCharsets.US_ASCII), STALE);
  }

  @Test
  void everySourceHasANonEmptyFatbinAndEveryFatbinASource() throws IOException {
    Set<String> modules = new HashSet<>(KernelSources.moduleNames());
    assertFalse(modules.isEmpty(), "no .cu sources found");
    for (String m : modules) {
      Path fatbin = KernelSources.committedDir().resolve(m + ".fatbin");
      assertTrue(Files.isRegularFile(fatbin) && Files.size(fatbin) > 0, STALE + " (" + fatbin + " missing or empty)");
    }
    for (Path fatbin : KernelSources.files(KernelSources.committedDir(), ".fatbin")) {
      String f = fatbin.getFileName().toString();
      assertTrue(modules.contains(f.substring(0, f.length() - ".fatbin".length())),
          STALE + " (" + fatbin + " has no source)");
    }
  }

  @Test
  void everyModuleDeclaresAtLeastOneExternCKernel() {
    for (String m : KernelSources.moduleNames()) {
      assertFalse(KernelSources.kernelNames(m).isEmpty(),
          m + ".cu: no 'extern \"C\" __global__ void name(' kernel found");
    }
  }

  /**
   * Reads the fatbin container's entry headers (nvcc's layout: a 16-byte header with magic 0xBA55ED50 and
   * the payload size at byte 8; per entry, kind at byte 0 (1 = PTX, 2 = ELF), header size at 4, payload
   * size at 8 and the architecture at 28) and requires ELF for sm_80 and sm_90 and PTX for compute_90.
   */
  @Test
  void everyFatbinHoldsSassForSm80AndSm90AndComputePtx() throws IOException {
    for (Path fatbin : KernelSources.files(KernelSources.committedDir(), ".fatbin")) {
      Set<String> entries = fatbinEntries(Files.readAllBytes(fatbin), fatbin.toString());
      for (String required : List.of("ELF sm_80", "ELF sm_90", "PTX sm_90")) {
        assertTrue(entries.contains(required), fatbin + ": no " + required + " entry, found " + entries);
      }
    }
  }

  /** The same with the toolkit's own cuobjdump, where the machine has it (GPU machines; not the build hosts). */
  @Test
  void cuobjdumpListsSassForSm80AndSm90AndPtx() throws Exception {
    Optional<Path> cuobjdump = findTool("cuobjdump");
    assumeTrue(findTool("nvcc").isPresent() && cuobjdump.isPresent(), "nvcc and cuobjdump are not both here");
    Path fatbin = KernelSources.committedDir().resolve("util.fatbin");
    String elf = run(cuobjdump.get().toString(), "--list-elf", fatbin.toString());
    assertTrue(elf.contains("sm_80") && elf.contains("sm_90"), "cuobjdump --list-elf: " + elf);
    String ptx = run(cuobjdump.get().toString(), "--list-ptx", fatbin.toString());
    assertTrue(ptx.contains("sm_90"), "cuobjdump --list-ptx: " + ptx);
  }

  private static Set<String> fatbinEntries(byte[] bytes, String what) {
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals(0xBA55ED50, b.getInt(0), what + ": not a fatbin (magic)");
    int headerSize = Short.toUnsignedInt(b.getShort(6));
    long end = headerSize + b.getLong(8);
    assertEquals(bytes.length, end, what + ": fatbin size field disagrees with the file size");
    Set<String> entries = new HashSet<>();
    long off = headerSize;
    while (off < end) {
      int at = Math.toIntExact(off);
      int kind = Short.toUnsignedInt(b.getShort(at));
      long entryHeader = Integer.toUnsignedLong(b.getInt(at + 4));
      long payload = b.getLong(at + 8);
      int arch = b.getInt(at + 28);
      assertTrue(entryHeader >= 32 && payload > 0 && off + entryHeader + payload <= end,
          what + ": malformed entry at byte " + off);
      entries.add((kind == 1 ? "PTX" : kind == 2 ? "ELF" : "kind" + kind) + " sm_" + arch);
      off += entryHeader + payload;
    }
    return entries;
  }

  private static Optional<Path> findTool(String name) {
    List<String> dirs = new ArrayList<>(List.of(System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)));
    dirs.add("/usr/local/cuda/bin");
    for (String d : dirs) {
      Path p = Path.of(d.isEmpty() ? "." : d, name);
      if (Files.isExecutable(p)) {
        return Optional.of(p);
      }
    }
    return Optional.empty();
  }

  private static String run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(p.waitFor(60, TimeUnit.SECONDS), String.join(" ", command) + " did not finish");
    assertEquals(0, p.exitValue(), String.join(" ", command) + ": " + out);
    return out;
  }

  private static String sha256(byte[] data) throws NoSuchAlgorithmException {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }
}
