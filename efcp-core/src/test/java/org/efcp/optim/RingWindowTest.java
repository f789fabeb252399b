package org.efcp.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** What every window inherits from {@link RingWindow}: the checks {@link GradientWindow#restore} makes. */
class RingWindowTest {

  static Stream<Arguments> windows() {
    TensorLayout layout = TensorLayout.parse("2x5");
    return Stream.of(
        Arguments.of("sparse", (Supplier<GradientWindow>) () -> new SparseWindow(4, 10, 3)),
        Arguments.of("dense", (Supplier<GradientWindow>) () -> new DenseWindow(4, 10)),
        Arguments.of("low-rank", (Supplier<GradientWindow>) () -> new LowRankWindow(4, layout, 1)));
  }

  /** A vector of the window's own kind: a fresh window's empty slot holds a zero one. */
  private static CompressedVector zeroOfItsKind(Supplier<GradientWindow> windows) {
    return windows.get().stored(0);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("windows")
  void aNullSlotIsRefusedByItsIndexAndLeavesTheWindowEmpty(String kind, Supplier<GradientWindow> windows) {
    GradientWindow w = windows.get();
    CompressedVector v = zeroOfItsKind(windows);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> w.restore(new CompressedVector[] {v, v, null}, 3));
    assertEquals("slots: slot 2 is null", e.getMessage());
    assertEquals(0, w.insertCount());

    w.restore(new CompressedVector[] {v, v, v, v}, 9);
    assertEquals(9, w.insertCount());
    assertEquals(1, w.nextSlot());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("windows")
  void aMissingSlotArrayIsRefusedByName(String kind, Supplier<GradientWindow> windows) {
    GradientWindow w = windows.get();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> w.restore(null, 0));
    assertEquals("slots: null", e.getMessage());
    assertEquals(0, w.insertCount());
  }
}
