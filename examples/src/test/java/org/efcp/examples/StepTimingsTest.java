package org.efcp.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.efcp.ml.train.StepRecord;
import org.junit.jupiter.api.Test;

class StepTimingsTest {

  private static StepRecord step(long step, double broadcast, double aggregate, double optimizer) {
    return new StepRecord(step, 1, (int) step, 1024, 0.5, 1e-3, 1, 1, false, Double.NaN, Double.NaN, Double.NaN,
        Double.NaN, Double.NaN, broadcast, aggregate, optimizer);
  }

  @Test
  void transportIsTheMedianOfPerStepSumsNotTheSumOfMedians() {
    // per-step sums 11, 7, 5: median 7; the parts' medians 2 + 3 would say 5
    StepTimings t = StepTimings.of("stream", List.of(step(0, 1, 10, 4), step(1, 5, 2, 6), step(2, 2, 3, 5)), 30);
    assertEquals(7, t.transport(), 0);
    assertEquals(2, t.broadcast(), 0);
    assertEquals(3, t.aggregate(), 0);
    assertEquals(5, t.optimizer(), 0);
    assertEquals(10, t.wall(), 0);
    assertEquals(3, t.steps());
    assertEquals("stream", t.engine());
  }

  @Test
  void medianOfAnEvenCountIsTheMeanOfTheMiddleTwo() {
    assertEquals(2.5, StepTimings.median(new double[] {4, 1, 3, 2}), 0);
    assertEquals(3, StepTimings.median(new double[] {3}), 0);
  }

  @Test
  void noMeasuredStepsIsRejected() {
    assertThrows(IllegalArgumentException.class, () -> StepTimings.of("jobs", List.of(), 1));
  }
}
