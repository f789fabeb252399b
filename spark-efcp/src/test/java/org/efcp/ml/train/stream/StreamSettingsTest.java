package org.efcp.ml.train.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.apache.spark.SparkConf;
import org.junit.jupiter.api.Test;

class StreamSettingsTest {

  @Test
  void bindsToTheDriverHostAndWaitsAsLongAsSparksNetworkTimeoutByDefault() {
    StreamSettings s = StreamSettings.of(new SparkConf(false).set("spark.driver.host", "10.0.0.5")
        .set("spark.network.timeout", "45s"));
    assertEquals("10.0.0.5", s.bindHost());
    assertEquals("10.0.0.5", s.advertisedHost());
    assertEquals(0, s.port());
    assertEquals(45_000, s.timeoutMillis());
    StreamSettings bound = StreamSettings.of(new SparkConf(false).set("spark.driver.host", "10.0.0.5")
        .set("spark.driver.bindAddress", "0.0.0.0").set("spark.efcp.stream.port", "7077")
        .set("spark.efcp.stream.timeout", "2min"));
    assertEquals("0.0.0.0", bound.bindHost());
    assertEquals("10.0.0.5", bound.advertisedHost());
    assertEquals(7077, bound.port());
    assertEquals(120_000, bound.timeoutMillis());
  }

  @Test
  void badSettingsAreRefusedNamingTheSetting() {
    IllegalArgumentException port = assertThrows(IllegalArgumentException.class,
        () -> StreamSettings.of(new SparkConf(false).set("spark.efcp.stream.port", "70000")));
    assertTrue(port.getMessage().startsWith("spark.efcp.stream.port: 70000"), port.getMessage());
    IllegalArgumentException timeout = assertThrows(IllegalArgumentException.class,
        () -> StreamSettings.of(new SparkConf(false).set("spark.efcp.stream.timeout", "0s")));
    assertTrue(timeout.getMessage().startsWith("spark.efcp.stream.timeout: must be > 0"), timeout.getMessage());
  }
}
