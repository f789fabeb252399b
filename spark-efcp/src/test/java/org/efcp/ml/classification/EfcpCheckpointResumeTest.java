package org.efcp.ml.classification;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.efcp.ml.TestData;
import org.efcp.ml.train.StepRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EfcpCheckpointResumeTest {
  private static SparkSession spark;
  private static Dataset<Row> train;

  @BeforeAll
  static void start() {
    spark = TestData.session("local[2]", "EfcpCheckpointResumeTest");
    train = TestData.gaussianClasses(spark, 1_200, 6, 3, 1.2, 21, 22, 3).cache();
  }

  @AfterAll
  static void stop() {
    spark.stop();
  }

  private static EFCPLogisticRegression estimator() {
    return new EFCPLogisticRegression().setNumEpochs(4).setBatchSize(200).setMomentum(0.5).setSeed(7);
  }

  @Test
  void aFitRestartedFromItsCheckpointEndsWithTheModelOfAnUninterruptedFit(@TempDir Path dir) throws IOException {
    EFCPLogisticRegressionModel reference = estimator().fit(train);
    String checkpoints = dir.resolve("ckpt").toString();

    IllegalStateException crash = assertThrows(IllegalStateException.class,
        () -> estimator().setCheckpointDir(checkpoints).setCheckpointInterval(4).addListener(new CrashAfter(9))
            .fit(train));
    assertTrue(crash.getMessage().contains("simulated"), crash.getMessage());
    try (Stream<Path> files = Files.list(dir.resolve("ckpt"))) {
      // Hadoop's local file system adds hidden .crc files beside each file.
      List<String> names = files.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).sorted()
          .toList();
      assertEquals(List.of("efcp-checkpoint-000000000000008.bin"), names, "the newest whole checkpoint only");
    }

    EFCPLogisticRegressionModel resumed = estimator().setCheckpointDir(checkpoints).setCheckpointInterval(4)
        .fit(train);
    assertEquals(8, resumed.summary().resumedFromStep());
    assertArrayEquals(reference.coefficientMatrix().toArray(), resumed.coefficientMatrix().toArray(), 0.0);
    assertArrayEquals(reference.interceptVector().toArray(), resumed.interceptVector().toArray(), 0.0);
    assertArrayEquals(reference.summary().objectiveHistory(), resumed.summary().objectiveHistory(), 0.0);
    assertEquals(reference.summary().totalIterations(), resumed.summary().totalIterations());
    List<StepRecord> a = reference.summary().steps();
    List<StepRecord> b = resumed.summary().steps();
    assertEquals(a.size(), b.size());
    for (int i = 0; i < a.size(); i++) {
      assertEquals(a.get(i).loss(), b.get(i).loss(), 0.0, "loss of step " + i);
    }
  }

  @Test
  void checkpointingDoesNotChangeTheModel(@TempDir Path dir) {
    EFCPLogisticRegressionModel plain = estimator().fit(train);
    EFCPLogisticRegressionModel checkpointed = estimator().setCheckpointDir(dir.toString()).setCheckpointInterval(3)
        .fit(train);
    assertEquals(-1, checkpointed.summary().resumedFromStep());
    assertArrayEquals(plain.coefficientMatrix().toArray(), checkpointed.coefficientMatrix().toArray(), 0.0);
  }

  @Test
  void aCheckpointOfOtherSettingsIsRefusedNamingTheDirectory(@TempDir Path dir) {
    String checkpoints = dir.toString();
    estimator().setCheckpointDir(checkpoints).setCheckpointInterval(2).setNumEpochs(1).fit(train);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> estimator().setCheckpointDir(checkpoints).setStepSize(0.05).fit(train));
    assertTrue(e.getMessage().startsWith("checkpointDir"), e.getMessage());
  }
}
