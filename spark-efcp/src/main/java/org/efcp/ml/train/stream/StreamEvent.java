package org.efcp.ml.train.stream;

import io.netty.channel.Channel;
import org.efcp.ml.train.PartitionShare;

/** What the endpoint's I/O thread tells the driver's training thread, in arrival order. */
sealed interface StreamEvent {

  /** A task authenticated as {@code partition} of stage attempt {@code attempt}. */
  record Connected(int partition, int attempt, Channel channel) implements StreamEvent {}

  /** An authenticated task's share for {@code globalStep}. */
  record Share(int partition, int attempt, Channel channel, long globalStep, PartitionShare share)
      implements StreamEvent {}

  /** An authenticated task's connection closed. */
  record Closed(int partition, int attempt, Channel channel) implements StreamEvent {}

  /** An authenticated peer broke the protocol; its connection is closed and the fit must stop. */
  record Violation(int partition, String what) implements StreamEvent {}
}
