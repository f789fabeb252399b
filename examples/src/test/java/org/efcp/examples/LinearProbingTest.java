package org.efcp.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LinearProbingTest {

  @Test
  void defaultBatchSizeGivesSixteenStepsPerEpochWithinItsBounds() {
    assertEquals(1024, LinearProbing.defaultBatchSize(2_000));
    assertEquals(1024, LinearProbing.defaultBatchSize(20_000));
    assertEquals(2048, LinearProbing.defaultBatchSize(40_000));
    assertEquals(4096, LinearProbing.defaultBatchSize(100_000));
    assertEquals(8192, LinearProbing.defaultBatchSize(131_072));
    assertEquals(8192, LinearProbing.defaultBatchSize(1_200_000));
  }
}
