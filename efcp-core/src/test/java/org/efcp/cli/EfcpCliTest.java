package org.efcp.cli;

import static org.efcp.cli.CliFixtures.gradients;
import static org.efcp.cli.CliFixtures.listing;
import static org.efcp.cli.CliFixtures.run;
import static org.efcp.cli.CliFixtures.writeFloat64;
import static org.efcp.cli.CliFixtures.writeNpy;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.efcp.cli.CliFixtures.Result;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Usage, and every kind of bad input: exit code 2, one "efcp: error:" line, no output file left behind. */
class EfcpCliTest {
  @TempDir Path dir;
  private Path grads;
  private Path out;

  @BeforeEach
  void writeGradients() throws Exception {
    grads = dir.resolve("g.npy");
    out = dir.resolve("u.npy");
    writeFloat64(grads, gradients(4, 10));
  }

  /** replay with --grads/--out set to the fixtures, then {@code extra}. */
  private Result replay(String... extra) {
    List<String> args = new ArrayList<>(List.of("replay", "--grads", grads.toString(), "--out", out.toString()));
    args.addAll(Arrays.asList(extra));
    return run(args.toArray(String[]::new));
  }

  /** Asserts the bad-input contract and that only the inputs remain in the directory. */
  private void assertRejected(Result r, String... fragments) throws Exception {
    r.assertBadInput(fragments);
    assertEquals("", r.out());
    assertEquals(List.of("g.npy"), listing(dir), "no output or temporary file may remain");
  }

  @Test
  void noArgumentsHelpAndDashDashHelpPrintUsageAndSucceed() {
    for (String[] args : new String[][] {{}, {"help"}, {"--help"}, {"-h"}, {"replay", "--help"}}) {
      Result r = run(args);
      assertEquals(0, r.code(), Arrays.toString(args));
      assertTrue(r.out().startsWith("usage: efcp"), r.out());
      assertTrue(r.out().contains("replay") && r.out().contains("bench"));
      assertEquals("", r.err());
    }
  }

  @Test
  void unknownCommandIsRejected() {
    run("train").assertBadInput("unknown command 'train'");
  }

  @Test
  void missingInputFileIsRejected() throws Exception {
    Files.delete(grads);
    Result r = replay("--method", "sgd");
    r.assertBadInput(grads + ": no such file");
    assertEquals(List.of(), listing(dir));
  }

  @Test
  void nonNpyInputIsRejected() throws Exception {
    Files.writeString(grads, "t,g0,g1\n0,1.5,2.5\n");
    assertRejected(replay("--method", "sgd"), "not a .npy file");
  }

  @Test
  void wrongDtypeIsRejected() throws Exception {
    writeNpy(grads, "{'descr': '<i8', 'fortran_order': False, 'shape': (1, 2), }", new byte[16]);
    assertRejected(replay("--method", "sgd"), "unsupported dtype '<i8'");
    writeNpy(grads, "{'descr': '>f8', 'fortran_order': False, 'shape': (1, 2), }", new byte[16]);
    assertRejected(replay("--method", "sgd"), "unsupported dtype '>f8'", "big-endian");
  }

  @Test
  void non2dInputIsRejected() throws Exception {
    writeNpy(grads, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }", new byte[24]);
    assertRejected(replay("--method", "sgd"), "not 2-D: shape (3,)");
  }

  @Test
  void fortranOrderInputIsRejected() throws Exception {
    writeNpy(grads, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 2), }", new byte[32]);
    assertRejected(replay("--method", "sgd"), "fortran_order True");
  }

  @Test
  void truncatedInputIsRejected() throws Exception {
    writeNpy(grads, "{'descr': '<f4', 'fortran_order': False, 'shape': (5, 10), }", new byte[4 * 47]);
    assertRejected(replay("--method", "sgd"), "truncated data");
  }

  @Test
  void zeroColumnsAreRejected() throws Exception {
    writeNpy(grads, "{'descr': '<f8', 'fortran_order': False, 'shape': (5, 0), }", new byte[0]);
    assertRejected(replay("--method", "sgd"), "0 columns");
  }

  @Test
  void nanFoundMidFileNamesRowAndColumnAndLeavesNoOutput() throws Exception {
    double[][] g = gradients(60, 10);
    g[57][3] = Double.NaN;
    writeFloat64(grads, g);
    Path dump = dir.resolve("c.npy");
    Result r = replay("--method", "sgd", "--dump-compressed", dump.toString());
    assertRejected(r, "row 57, column 3", "NaN");
  }

  @Test
  void infinityIsRejected() throws Exception {
    double[][] g = gradients(3, 10);
    g[0][9] = Double.NEGATIVE_INFINITY;
    writeFloat64(grads, g);
    assertRejected(replay("--method", "sgd"), "row 0, column 9", "-Infinity");
  }

  @Test
  void failureDoesNotClobberAnExistingOutputFile() throws Exception {
    double[][] g = gradients(8, 10);
    g[6][0] = Double.POSITIVE_INFINITY;
    writeFloat64(grads, g);
    byte[] previous = "previous results".getBytes(StandardCharsets.US_ASCII);
    Files.write(out, previous);
    replay("--method", "sgd").assertBadInput("row 6, column 0");
    assertArrayEquals(previous, Files.readAllBytes(out));
    assertEquals(List.of("g.npy", "u.npy"), listing(dir));
  }

  @Test
  void shapesThatDoNotAddUpToDAreRejected() throws Exception {
    assertRejected(replay("--method", "sgd", "--shapes", "3x3"), "--shapes", "adds up to 9", "d = 10");
    assertRejected(replay("--method", "sgd", "--shapes", "3xy"), "--shapes", "cannot parse");
    assertRejected(replay("--method", "sgd", "--shapes", "0x5"), "--shapes", "extent 0");
  }

  @Test
  void unknownOrMissingMethodIsRejected() throws Exception {
    assertRejected(replay("--method", "adam"), "--method", "unknown 'adam'", "sparse-mfac");
    assertRejected(replay(), "--method: required");
  }

  @Test
  void unknownFlagsAndMalformedArgumentsAreRejected() throws Exception {
    assertRejected(replay("--method", "sgd", "--lr", "0.1"), "unknown option '--lr'");
    assertRejected(replay("--method", "sgd", "stray"), "unexpected argument 'stray'");
    assertRejected(replay("--method", "sgd", "--seed"), "--seed: missing value");
    assertRejected(replay("--method", "sgd", "--method", "sgd"), "--method: given more than once");
    assertRejected(run("replay", "--method", "sgd", "--grads", grads.toString()), "--out: required");
    assertRejected(run("replay", "--method", "sgd", "--out", out.toString()), "--grads: required");
  }

  @Test
  void nonNumericParametersAreRejected() throws Exception {
    assertRejected(replay("--method", "sgd", "--k", "abc"), "--k: not a number: 'abc'");
    assertRejected(replay("--method", "sgd", "--m", "1.5"), "--m: not an integer");
    assertRejected(replay("--method", "sgd", "--m", "99999999999"), "--m: out of range");
    assertRejected(replay("--method", "sgd", "--seed", "x"), "--seed: not an integer");
    assertRejected(replay("--method", "sgd", "--damp", "NaN"), "--damp: must be finite");
  }

  @Test
  void outOfRangeParametersAreRejectedNamingTheOption() throws Exception {
    assertRejected(replay("--method", "sparse-mfac", "--k", "0"), "--k: must be > 0");
    assertRejected(replay("--method", "sgd", "--k", "-0.5"), "--k: must be > 0");
    assertRejected(replay("--method", "dense-mfac", "--damp", "-1"), "--damp (damping): must be > 0");
    assertRejected(replay("--method", "dense-mfac", "--m", "0"), "--m: must be >= 1");
    assertRejected(replay("--method", "lowrank-mfac", "--rank", "0"), "--rank: must be >= 1");
    assertRejected(replay("--method", "dense-ggt", "--eps", "0"), "--eps (ggtEpsilon): must be > 0");
    assertRejected(replay("--method", "dense-ggt", "--ridge", "-1e-6"), "--ridge: must be >= 0");
    assertRejected(replay("--method", "sparse-mfac", "--k", "11"), "--k");
  }

  @Test
  void parametersAreValidatedBeforeTheDataIsRead() throws Exception {
    double[][] g = gradients(4, 10);
    g[0][0] = Double.NaN;
    writeFloat64(grads, g);
    assertRejected(replay("--method", "dense-mfac", "--damp", "-1"), "--damp");
  }

  @Test
  void unusableOutputPathsAreRejectedBeforeAnyWork() throws Exception {
    assertRejected(run("replay", "--method", "sgd", "--grads", grads.toString(), "--out",
        dir.resolve("no/such/dir/u.npy").toString()), "--out: directory", "does not exist");
    assertRejected(run("replay", "--method", "sgd", "--grads", grads.toString(), "--out", dir.toString()),
        "--out", "is a directory");
  }

  @Test
  void outputPathsMustDiffer() throws Exception {
    assertRejected(replay("--method", "sgd", "--dump-compressed", out.toString()), "same file as --out");
  }
}
