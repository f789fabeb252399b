package org.efcp.ml.train.stream;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import java.util.List;

/**
 * Splits the byte stream into {@link StreamProtocol} frames (type byte + payload, length field removed) and
 * refuses a length above the current limit before buffering it, so an oversized or garbage length costs no
 * memory.
 */
final class FrameDecoder extends ByteToMessageDecoder {
  private int maxLength;

  FrameDecoder(int maxLength) {
    this.maxLength = maxLength;
  }

  /** Raises (or lowers) the largest accepted frame, e.g. once the peer has authenticated. */
  void maxLength(int value) {
    maxLength = value;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (in.readableBytes() < StreamProtocol.LENGTH_BYTES) {
      return;
    }
    int length = in.getIntLE(in.readerIndex());
    if (length < 1 || length > maxLength) {
      in.skipBytes(in.readableBytes());
      throw new ProtocolException("frame length " + Integer.toUnsignedString(length) + " outside [1, "
          + maxLength + "]");
    }
    if (in.readableBytes() < StreamProtocol.LENGTH_BYTES + length) {
      return;
    }
    in.skipBytes(StreamProtocol.LENGTH_BYTES);
    out.add(in.readRetainedSlice(length));
  }
}
