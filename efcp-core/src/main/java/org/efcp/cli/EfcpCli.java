package org.efcp.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Arrays;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.efcp.io.NpyFormatException;

/**
 * The {@code efcp} command: {@code replay} (gradients file → update directions file) and {@code bench}
 * (timing of one optimizer step on synthetic gradients). Exit codes: 0 success, 2 bad input (options, files,
 * non-finite gradients), 1 any other failure; every error is one line on stderr starting "efcp: error:".
 */
public final class EfcpCli {
  static final int EXIT_OK = 0;
  static final int EXIT_FAILURE = 1;
  static final int EXIT_BAD_INPUT = 2;

  static final String USAGE = String.join("\n",
      "usage: efcp <command> [options]",
      "",
      "commands:",
      "  replay  run the update-direction pipeline over a T x d gradient file, one row per step",
      "          --method M --grads G.npy --out U.npy [--m M] [--k K] [--damp D] [--eps E] [--rank R]",
      "          [--shapes \"30x40,30\"] [--ridge R] [--seed S] [--dump-compressed C.npy]",
      "          G: float32 or float64, C order; U (and C, the compressed vectors c_t): float64 T x d.",
      "          Learning rate 1, no momentum, weight decay or clipping.",
      "  bench   time one step on synthetic gradients and print one JSON line",
      "          [--method M] [--d D] [--m M] [--k K] [--damp D] [--eps E] [--rank R] [--shapes S] [--ridge R]",
      "          [--seed S] [--fill F] [--steps N]",
      "          defaults: the paper's linear probe: sparse-mfac, d 769000, m 1024, k 0.01, 50 timed steps",
      "          after F = m fill steps (0 for methods without a window)",
      "  help    print this text",
      "",
      "methods: dense-mfac sparse-mfac lowrank-mfac dense-ggt sparse-ggt adagrad-ef sgd",
      "options: --m window size (default 1024 for M-FAC, 100 for GGT); --k Top-k density <= 1 or count > 1",
      "         (0.01); --damp M-FAC damping (1e-5); --eps GGT epsilon (1e-5) or AdaGrad epsilon (1e-10);",
      "         --rank low-rank rank (4); --shapes tensor shapes adding up to d (default one flat tensor);",
      "         --ridge GGT ridge (1e-6); --seed random seed (0)",
      "exit codes: 0 success, 2 bad input, 1 other failure");

  /** Held so the level sticks (loggers are weakly referenced): netlib announces its backend at INFO on stderr. */
  private static final Logger NETLIB_LOGGER = Logger.getLogger("dev.ludovic.netlib");

  private EfcpCli() {}

  public static void main(String[] args) {
    NETLIB_LOGGER.setLevel(Level.WARNING);
    System.exit(run(args, System.out, System.err));
  }

  /**
   * Runs one command.
   *
   * @param out receives the usage text and bench's JSON line
   * @param err receives at most one "efcp: error: ..." line
   * @return the exit code
   */
  public static int run(String[] args, PrintStream out, PrintStream err) {
    try {
      if (args.length == 0 || args[0].equals("help") || Arrays.stream(args).anyMatch(EfcpCli::isHelp)) {
        out.println(USAGE);
        return EXIT_OK;
      }
      String command = args[0];
      switch (command) {
        case "replay" -> ReplayCommand.run(CliArgs.parse(command, args, 1, ReplayCommand.FLAGS));
        case "bench" -> BenchCommand.run(CliArgs.parse(command, args, 1, BenchCommand.FLAGS), out);
        default -> throw new CliException("unknown command '" + command + "' (expected replay, bench or help)");
      }
      return EXIT_OK;
    } catch (CliException | NpyFormatException | IllegalArgumentException e) {
      return fail(err, e.getMessage(), EXIT_BAD_INPUT);
    } catch (IOException e) {
      return fail(err, "I/O: " + e, EXIT_FAILURE);
    } catch (OutOfMemoryError e) {
      return fail(err, "out of memory (raise the heap, e.g. EFCP_JAVA_OPTS=-Xmx16g)", EXIT_FAILURE);
    } catch (RuntimeException e) {
      return fail(err, "internal error: " + e, EXIT_FAILURE);
    }
  }

  private static boolean isHelp(String arg) {
    return arg.equals("--help") || arg.equals("-h");
  }

  private static int fail(PrintStream err, String message, int code) {
    err.println("efcp: error: " + String.valueOf(message).replaceAll("\\s*[\\r\\n]+\\s*", " "));
    err.flush();
    return code;
  }
}
