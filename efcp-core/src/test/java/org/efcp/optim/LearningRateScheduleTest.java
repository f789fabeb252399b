package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LearningRateScheduleTest {

  @Test
  void cosineIsHalfCosineOverTAndZeroAfterwards() {
    LearningRateSchedule s = LearningRateSchedule.cosine(100);
    assertEquals(1.0, s.factor(0), 0);
    assertEquals(0.5, s.factor(50), 1e-15);
    assertEquals(0.5 * (1 + Math.cos(Math.PI * 0.3)), s.factor(30), 1e-15);
    assertEquals(0.0, s.factor(100), 1e-15);
    assertEquals(s.factor(100), s.factor(1000), 0);
    assertEquals("cosine", s.toString());
  }

  @Test
  void linearReachesZeroAtTAndStays() {
    LearningRateSchedule s = LearningRateSchedule.linear(8);
    assertEquals(1.0, s.factor(0), 0);
    assertEquals(0.75, s.factor(2), 0);
    assertEquals(0.0, s.factor(8), 0);
    assertEquals(0.0, s.factor(20), 0);
  }

  @Test
  void stepMultipliesByGammaAtFloorOfEachFraction() {
    LearningRateSchedule s = LearningRateSchedule.step(10, new double[] {0.75, 0.5}, 0.1);
    assertEquals(1.0, s.factor(4), 0);
    assertEquals(0.1, s.factor(5), 0);
    assertEquals(0.1, s.factor(6), 0);
    assertEquals(0.1 * 0.1, s.factor(7), 0); // floor(7.5) = 7
    assertEquals(0.1 * 0.1, s.factor(1000), 0);
  }

  @Test
  void parseKnowsEveryName() {
    assertEquals(1.0, LearningRateSchedule.parse("constant", 0).factor(99), 0);
    assertEquals(0.5, LearningRateSchedule.parse(" Cosine ", 10).factor(5), 1e-15);
    assertEquals(0.5, LearningRateSchedule.parse("linear", 10).factor(5), 0);
    assertEquals(0.1, LearningRateSchedule.parse("step", 100).factor(50), 0);
    LearningRateSchedule custom = LearningRateSchedule.parse("step:0.3,0.6:0.5", 10);
    assertEquals(1.0, custom.factor(2), 0);
    assertEquals(0.5, custom.factor(3), 0);
    assertEquals(0.25, custom.factor(6), 0);
  }

  @Test
  void badSpecificationsNameTheParameter() {
    String[] bad = {"", "warmup", "step:0.5", "step:x:0.1", "step:0.5:1.5", "step:1.5:0.1", "step:0.5:0"};
    for (String spec : bad) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
          () -> LearningRateSchedule.parse(spec, 100), spec);
      assertTrue(e.getMessage().startsWith("lrSchedule:"), e.getMessage());
    }
    assertTrue(assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.parse(null, 100))
        .getMessage().startsWith("lrSchedule:"));
    for (String spec : new String[] {"cosine", "linear", "step"}) {
      assertTrue(assertThrows(IllegalArgumentException.class, () -> LearningRateSchedule.parse(spec, 0))
          .getMessage().startsWith("lrSchedule:"), spec);
    }
  }
}
