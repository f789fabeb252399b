package org.efcp.notebooks;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import scala.Console$;
import scala.tools.nsc.Settings;
import scala.tools.nsc.interpreter.IMain;
import scala.tools.nsc.interpreter.Results;
import scala.tools.nsc.interpreter.shell.ReplReporterImpl;

/**
 * A Scala 2.13 REPL bound to a local Spark session, set up the way Zeppelin's {@code %spark} interpreter and
 * spark-shell set theirs up: class-based wrappers ({@code -Yrepl-class-based}) whose class files go to a directory
 * that the driver serves to executors ({@code spark.repl.class.outputDir}), and {@code spark}, {@code sc} and the
 * usual imports predefined. So paragraphs whose closures run in Spark tasks work as they do in Zeppelin.
 */
final class SparkScalaRepl implements AutoCloseable {

  private final IMain intp;
  private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
  private final PrintStream out = new PrintStream(buffer, true, StandardCharsets.UTF_8);

  /**
   * Starts the REPL and the session (local[2], 127.0.0.1, UI off).
   *
   * @param classpath the REPL compiler's classpath, e.g. the test classpath
   * @param classDir where the REPL writes its class files; created if missing
   */
  SparkScalaRepl(String classpath, Path classDir) throws IOException {
    Files.createDirectories(classDir);
    Settings settings = new Settings();
    settings.Yreplclassbased().value_$eq(true);
    settings.Yreploutdir().value_$eq(classDir.toString());
    settings.classpath().value_$eq(classpath);
    intp = new IMain(settings, new ReplReporterImpl(settings, new PrintWriter(out, true)));
    if (!intp.initializeCompiler()) {
      throw new IllegalStateException("the Scala REPL's compiler did not start:\n" + drain());
    }
    String session = String.join("\n",
        "@transient val spark = org.apache.spark.sql.SparkSession.builder()",
        "  .appName(\"zeppelin-note\").master(\"local[2]\")",
        "  .config(\"spark.driver.host\", \"127.0.0.1\").config(\"spark.driver.bindAddress\", \"127.0.0.1\")",
        "  .config(\"spark.ui.enabled\", \"false\").config(\"spark.sql.shuffle.partitions\", \"2\")",
        "  .config(\"spark.repl.class.outputDir\", \"" + classDir.toAbsolutePath() + "\")",
        "  .getOrCreate()",
        "@transient val sc = spark.sparkContext",
        "import spark.implicits._",
        "import spark.sql",
        "import org.apache.spark.sql.functions._");
    run(session);
  }

  /**
   * Interprets Scala code, as one paragraph.
   *
   * @return what it printed, the REPL's result lines included
   * @throws AssertionError if it does not compile, is incomplete or throws
   */
  String run(String code) {
    Results.Result result = Console$.MODULE$.withOut(out, () -> intp.interpret(code));
    String printed = drain();
    if (result != Results.Success$.MODULE$) {
      throw new AssertionError("Scala REPL: " + result + " for\n" + code + "\n---\n" + printed);
    }
    return printed;
  }

  private String drain() {
    out.flush();
    String s = buffer.toString(StandardCharsets.UTF_8);
    buffer.reset();
    return s;
  }

  /** Stops the session and the REPL. */
  @Override
  public void close() {
    try {
      intp.interpret("spark.stop()");
    } finally {
      intp.close();
    }
  }
}
