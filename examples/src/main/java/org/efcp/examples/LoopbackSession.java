package org.efcp.examples;

import org.apache.spark.sql.SparkSession;

/** The examples' local SparkSession: bound to 127.0.0.1, UI off, Spark logging at WARN. */
final class LoopbackSession {

  private LoopbackSession() {
  }

  /**
   * Starts (or returns the running) local session.
   *
   * @param shufflePartitions {@code spark.sql.shuffle.partitions}; the examples use their data's partition count
   */
  static SparkSession start(String appName, int shufflePartitions) {
    return start(appName, "local[*]", shufflePartitions);
  }

  /**
   * Starts (or returns the running) session on {@code master}, e.g. {@code local[2]} for a fixed number of task
   * slots whatever the machine.
   */
  static SparkSession start(String appName, String master, int shufflePartitions) {
    SparkSession spark = SparkSession.builder()
        .appName(appName)
        .master(master)
        .config("spark.driver.host", "127.0.0.1")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", Integer.toString(shufflePartitions))
        .getOrCreate();
    spark.sparkContext().setLogLevel("WARN");
    return spark;
  }
}
