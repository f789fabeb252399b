package org.efcp.model.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SgemmPlanTest {

  @Test
  void weightGradientOf1000Classes768FeaturesAnd8192RowsSplitsIntoElevenRangesOn132Sms() {
    // 8 x 6 = 48 output tiles; two waves of 2 blocks on 132 SMs want 528 blocks = 11 splits of ⌈8192 / 11⌉ → 752.
    SgemmPlan p = SgemmPlan.splitK(1000, 768, 8192, 132);
    assertEquals(new SgemmPlan(6, 8 * 11, 11, 752), p);
  }

  @Test
  void logitsPlanIsOneSplitCoveringAllOfK() {
    SgemmPlan p = SgemmPlan.single(8192, 1000, 768);
    assertEquals(new SgemmPlan(8, 64, 1, 768), p);
    assertEquals(new SgemmPlan(1, 1, 1, 8), SgemmPlan.single(1, 1, 1));
    assertEquals(new SgemmPlan(3, 2, 1, 72), SgemmPlan.single(129, 257, 65));
    assertEquals(new SgemmPlan(1, 1, 1, 8), SgemmPlan.single(5, 7, 0));
  }

  @Test
  void everySplitPlanCoversKExactlyWithNonEmptyAlignedRanges() {
    int[] sizes = {1, 7, 8, 9, 127, 128, 129, 255, 256, 257, 511, 512, 1000, 4099, 8192, 100_003};
    for (int m : new int[] {1, 7, 128, 1000}) {
      for (int n : new int[] {1, 130, 768}) {
        for (int k : sizes) {
          for (int sms : new int[] {1, 108, 132}) {
            SgemmPlan p = SgemmPlan.splitK(m, n, k, sms);
            String what = m + "x" + n + "x" + k + " on " + sms + " SMs: " + p;
            assertEquals((n + 127) / 128, p.gridX(), what);
            assertEquals((m + 127) / 128 * p.splits(), p.gridY(), what);
            assertEquals(0, p.kChunk() % SgemmPlan.SLICE, what);
            assertTrue((long) p.kChunk() * p.splits() >= k, what + " covers k");
            assertTrue((long) p.kChunk() * (p.splits() - 1) < k, what + " has an empty split");
            assertTrue(p.splits() == 1 || p.kChunk() >= SgemmPlan.MIN_SPLIT_K - SgemmPlan.SLICE, what);
            Sgemm.checkPlan(p, m, n, k);
          }
        }
      }
    }
  }

  @Test
  void shortKOrManyTilesIsNotSplit() {
    assertEquals(1, SgemmPlan.splitK(1000, 768, 511, 132).splits());
    assertEquals(1, SgemmPlan.splitK(8192, 8192, 100_000, 132).splits());
  }

  @Test
  void rejectsBadDimensionsAndGridOverflow() {
    assertThrows(IllegalArgumentException.class, () -> SgemmPlan.single(0, 1, 1));
    assertThrows(IllegalArgumentException.class, () -> SgemmPlan.single(1, 0, 1));
    assertThrows(IllegalArgumentException.class, () -> SgemmPlan.single(1, 1, -1));
    assertThrows(IllegalArgumentException.class, () -> SgemmPlan.splitK(1, 1, 1, 0));
    SgemmPlan.single(65_535 * 128, 1, 1);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> SgemmPlan.single(65_535 * 128 + 1, 1, 1));
    assertTrue(e.getMessage().startsWith("m: "), e.getMessage());
  }

  @Test
  void checkPlanRejectsAPlanForAnotherShape() {
    SgemmPlan p = SgemmPlan.splitK(1000, 768, 8192, 132);
    assertThrows(IllegalArgumentException.class, () -> Sgemm.checkPlan(p, 1000, 768, 9000));
    assertThrows(IllegalArgumentException.class, () -> Sgemm.checkPlan(p, 1000, 900, 8192));
    assertThrows(IllegalArgumentException.class, () -> Sgemm.checkPlan(p, 1200, 768, 8192));
    assertThrows(IllegalArgumentException.class, () -> Sgemm.checkPlan(p, 1000, 768, 752 * 10));
    assertThrows(IllegalArgumentException.class,
        () -> Sgemm.checkPlan(new SgemmPlan(6, 8, 1, 8196), 1000, 768, 8192));
  }

  @Test
  void operandCheckNeedsLeadingDimensionAndBytesOfTheLastRow() {
    Sgemm.checkOperand("a", "lda", 4L * (16 * 20 + 10), 17, 10, 20);
    IllegalArgumentException small = assertThrows(IllegalArgumentException.class,
        () -> Sgemm.checkOperand("a", "lda", 4L * (16 * 20 + 10) - 1, 17, 10, 20));
    assertTrue(small.getMessage().startsWith("a: "), small.getMessage());
    IllegalArgumentException ld = assertThrows(IllegalArgumentException.class,
        () -> Sgemm.checkOperand("b", "ldb", 1 << 20, 17, 10, 9));
    assertTrue(ld.getMessage().startsWith("ldb: "), ld.getMessage());
    Sgemm.checkOperand("a", "lda", 0, 5, 0, 1);
    Sgemm.checkOperand("a", "lda", 0, 0, 5, 5);
  }

  /** 8 rows of a k-major operand must be a step that an int holds: 8 · (2^28 − 1) does, 8 · 2^28 does not. */
  @Test
  void kStridedOperandsStopWhereEightRowsNoLongerFitAnInt() {
    assertEquals((1 << 28) - 1, Sgemm.MAX_K_STRIDED_LD);
    assertTrue((long) SgemmPlan.SLICE * Sgemm.MAX_K_STRIDED_LD <= Integer.MAX_VALUE);
    Sgemm.checkKStrided("ldb", Sgemm.MAX_K_STRIDED_LD);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Sgemm.checkKStrided("ldb", 1 << 28));
    assertTrue(e.getMessage().startsWith("ldb: at most 268435455 "), e.getMessage());
  }
}
