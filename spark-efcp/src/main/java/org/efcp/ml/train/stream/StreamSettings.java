package org.efcp.ml.train.stream;

import org.apache.spark.SparkConf;

/**
 * Where the stream endpoint listens and how long its parties wait, from the Spark configuration.
 *
 * @param bindHost address the endpoint binds: {@code spark.driver.bindAddress}, else {@code spark.driver.host}
 * @param advertisedHost address the tasks connect to: {@code spark.driver.host}
 * @param port {@code spark.efcp.stream.port}, default 0 (an ephemeral port)
 * @param timeoutMillis {@code spark.efcp.stream.timeout} (default {@code spark.network.timeout}, 120 s): the
 *     longest wait for the tasks to connect, for a step's shares, and of a task for the driver's next message
 */
public record StreamSettings(String bindHost, String advertisedHost, int port, long timeoutMillis) {

  /** The settings of {@code conf}. */
  public static StreamSettings of(SparkConf conf) {
    String host = conf.get("spark.driver.host", "127.0.0.1");
    String bind = conf.get("spark.driver.bindAddress", host);
    int port = conf.getInt("spark.efcp.stream.port", 0);
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("spark.efcp.stream.port: " + port + " is not a port number");
    }
    long timeout = conf.getTimeAsMs("spark.efcp.stream.timeout", conf.get("spark.network.timeout", "120s"));
    if (timeout <= 0) {
      throw new IllegalArgumentException("spark.efcp.stream.timeout: must be > 0, got " + timeout + " ms");
    }
    return new StreamSettings(bind, host, port, timeout);
  }
}
