package org.efcp.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class StepEngineTableTest {

  private static final StepTimings JOBS = new StepTimings("jobs", 30, 50.3, 1.5, 48.8, 0.42, 55.0);
  private static final StepTimings STREAM = new StepTimings("stream", 30, 5.0, 0.5, 4.5, 0.41, 11.0);

  @Test
  void aRowShowsBothEnginesSideBySideWithJobsOverStreamRatios() {
    StepEngineTable.Row row = new StepEngineTable.Row("local[2]", "LR 768→1000", 769_000, "zero", 1024, JOBS, STREAM,
        "");
    assertEquals("| local[2] | LR 768→1000 | 769,000 | zero | 1024 | 30 | 50.3 (1.50 + 48.8) | 5.00 (0.50 + 4.50) "
        + "| 10.1× | 0.42 / 0.41 | 55.0 | 11.0 | 5.0× |  |", StepEngineTable.line(row));
  }

  @Test
  void aMissingEngineShowsDashesAndAFallbackIsMarked() {
    StepTimings fellBack = new StepTimings("jobs", 10, 60, 2, 58, 1, 70);
    StepEngineTable.Row row = new StepEngineTable.Row("standalone, 2 executors", "MLP", 5_824_522, "real", 256, null,
        fellBack, "jobs failed: OutOfMemoryError");
    assertEquals("| standalone, 2 executors | MLP | 5,824,522 | real | 256 | 10 | – | 60.0 (2.00 + 58.0) [ran jobs] "
        + "| – | – / 1.00 | – | 70.0 | – | jobs failed: OutOfMemoryError |", StepEngineTable.line(row));
  }

  @Test
  void markdownIsTheHeaderThenOneLinePerRowInOrder() {
    StepEngineTable table = new StepEngineTable();
    StepEngineTable.Row a = new StepEngineTable.Row("local[2]", "A", 1, "zero", 8, JOBS, null, "");
    StepEngineTable.Row b = new StepEngineTable.Row("local[2]", "B", 2, "real", 8, null, STREAM, "");
    table.add(a);
    table.add(b);
    assertEquals(StepEngineTable.HEADER + StepEngineTable.line(a) + "\n" + StepEngineTable.line(b) + "\n",
        table.markdown());
  }

  @Test
  void ratiosNeedBothSidesAndAPositiveDenominator() {
    assertEquals("4.0×", StepEngineTable.ratio(20, 5));
    assertEquals("–", StepEngineTable.ratio(20, 0));
    assertEquals("–", StepEngineTable.ratio(Double.NaN, 5));
  }
}
