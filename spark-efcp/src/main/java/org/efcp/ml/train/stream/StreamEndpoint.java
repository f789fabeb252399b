package org.efcp.ml.train.stream;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.net.InetSocketAddress;
import java.security.MessageDigest;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.efcp.ml.train.BatchTotals;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver side of the stream engine: a Netty server bound to one address (the driver host) that authenticates
 * each connection by the fit's secret token, checks every frame's length and type, and turns frames into
 * {@link StreamEvent}s for the training thread. A connection that has not authenticated within the
 * authentication timeout, or sends anything but a valid HELLO first, is closed and logged without disturbing
 * the fit; an authenticated one that breaks the protocol is closed and reported as a {@link
 * StreamEvent.Violation}. {@link #close()} closes every connection and stops the I/O thread.
 */
final class StreamEndpoint implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(StreamEndpoint.class);
  /** Name prefix of the endpoint's I/O thread (tests check none is left after a fit). */
  static final String THREAD_PREFIX = "efcp-stream-endpoint";

  private final EventLoopGroup group;
  private final Channel server;
  private final Set<Channel> connections;
  private final InetSocketAddress address;

  private StreamEndpoint(EventLoopGroup group, Channel server, Set<Channel> connections) {
    this.group = group;
    this.server = server;
    this.connections = connections;
    this.address = (InetSocketAddress) server.localAddress();
  }

  /**
   * Binds the endpoint.
   *
   * @param host the address to bind (the driver host only)
   * @param port the port, 0 for an ephemeral one
   * @param token the fit's secret, {@link StreamProtocol#TOKEN_BYTES} bytes
   * @param numPartitions partitions (= tasks) of the fit
   * @param dimension d, the length of θ and of every gradient share
   * @param authTimeoutMillis how long a new connection may take to authenticate, ms
   * @param events where events go; the endpoint only adds to it
   */
  static StreamEndpoint open(String host, int port, byte[] token, int numPartitions, int dimension,
      long authTimeoutMillis, BlockingQueue<StreamEvent> events) {
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(THREAD_PREFIX, true),
        NioIoHandler.newFactory());
    Set<Channel> connections = ConcurrentHashMap.newKeySet();
    try {
      Channel server = new ServerBootstrap()
          .group(group)
          .channel(NioServerSocketChannel.class)
          .childOption(ChannelOption.TCP_NODELAY, true)
          .childOption(ChannelOption.SO_SNDBUF, StreamProtocol.SOCKET_BUFFER_BYTES)
          .option(ChannelOption.SO_RCVBUF, StreamProtocol.SOCKET_BUFFER_BYTES)
          .childHandler(new ChannelInitializer<SocketChannel>() {
            @Override
            protected void initChannel(SocketChannel ch) {
              connections.add(ch);
              ch.closeFuture().addListener(f -> connections.remove(ch));
              FrameDecoder decoder = new FrameDecoder(StreamProtocol.HELLO_LENGTH);
              ch.pipeline().addLast(decoder, new Connection(decoder, token, numPartitions, dimension,
                  authTimeoutMillis, events));
            }
          })
          .bind(host, port).syncUninterruptibly().channel();
      return new StreamEndpoint(group, server, connections);
    } catch (RuntimeException e) {
      group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
      throw e;
    }
  }

  /** The bound address (its port is the ephemeral one when 0 was asked for). */
  InetSocketAddress address() {
    return address;
  }

  /** Closes the server and every connection and waits for the I/O thread to end. */
  @Override
  public void close() {
    server.close().syncUninterruptibly();
    for (Channel c : connections) {
      c.close().syncUninterruptibly();
    }
    group.shutdownGracefully(0, 5, TimeUnit.SECONDS).syncUninterruptibly();
  }

  /** One connection: unauthenticated until a valid HELLO, then a source of shares. */
  private static final class Connection extends SimpleChannelInboundHandler<ByteBuf> {
    private final FrameDecoder decoder;
    private final byte[] token;
    private final int numPartitions;
    private final int dimension;
    private final long authTimeoutMillis;
    private final BlockingQueue<StreamEvent> events;
    private int partition = -1;
    private int attempt = -1;
    private ScheduledFuture<?> authDeadline;

    Connection(FrameDecoder decoder, byte[] token, int numPartitions, int dimension, long authTimeoutMillis,
        BlockingQueue<StreamEvent> events) {
      this.decoder = decoder;
      this.token = token;
      this.numPartitions = numPartitions;
      this.dimension = dimension;
      this.authTimeoutMillis = authTimeoutMillis;
      this.events = events;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      authDeadline = ctx.executor().schedule(() -> {
        if (partition < 0) {
          LOG.warn("EFCP stream endpoint: closing {}: no valid HELLO within {} ms", ctx.channel().remoteAddress(),
              authTimeoutMillis);
          ctx.close();
        }
      }, authTimeoutMillis, TimeUnit.MILLISECONDS);
      ctx.fireChannelActive();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, ByteBuf frame) {
      int type = frame.getByte(frame.readerIndex());
      if (partition < 0) {
        hello(ctx, type, frame);
      } else {
        share(ctx, type, frame);
      }
    }

    private void hello(ChannelHandlerContext ctx, int type, ByteBuf frame) {
      if (type != StreamProtocol.HELLO || frame.readableBytes() != StreamProtocol.HELLO_LENGTH) {
        throw new ProtocolException("expected a HELLO of " + StreamProtocol.HELLO_LENGTH + " bytes, got "
            + StreamProtocol.typeName(type) + " of " + frame.readableBytes());
      }
      ByteBuf b = frame.skipBytes(1);
      byte[] offered = new byte[StreamProtocol.TOKEN_BYTES];
      b.readBytes(offered);
      int p = b.readIntLE();
      int n = b.readIntLE();
      int a = b.readIntLE();
      int d = b.readIntLE();
      if (!MessageDigest.isEqual(offered, token)) {
        throw new ProtocolException("wrong token");
      }
      if (p < 0 || p >= numPartitions || n != numPartitions || a < 0 || d != dimension) {
        throw new ProtocolException("HELLO for partition " + p + " of " + n + ", attempt " + a + ", d = " + d
            + " does not match this fit (" + numPartitions + " partitions, d = " + dimension + ")");
      }
      partition = p;
      attempt = a;
      authDeadline.cancel(false);
      decoder.maxLength(StreamProtocol.shareLength(dimension));
      events.add(new StreamEvent.Connected(p, a, ctx.channel()));
    }

    private void share(ChannelHandlerContext ctx, int type, ByteBuf frame) {
      int expected = StreamProtocol.shareLength(dimension);
      if (type != StreamProtocol.SHARE || frame.readableBytes() != expected) {
        throw new ProtocolException("expected a SHARE of " + expected + " bytes, got "
            + StreamProtocol.typeName(type) + " of " + frame.readableBytes());
      }
      ByteBuf b = frame.skipBytes(1);
      long step = b.readLongLE();
      double loss = b.readDoubleLE();
      double weight = b.readDoubleLE();
      long rows = b.readLongLE();
      events.add(new StreamEvent.Share(partition, attempt, ctx.channel(), step, new BatchTotals(loss, weight, rows),
          b.retainedSlice(b.readerIndex(), 4 * dimension)));
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (authDeadline != null) {
        authDeadline.cancel(false);
      }
      if (partition >= 0) {
        events.add(new StreamEvent.Closed(partition, attempt, ctx.channel()));
      }
      ctx.fireChannelInactive();
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
      Throwable c = cause instanceof io.netty.handler.codec.DecoderException && cause.getCause() != null
          ? cause.getCause() : cause;
      if (c instanceof ProtocolException) {
        if (partition < 0) {
          LOG.warn("EFCP stream endpoint: closing unauthenticated connection from {}: {}",
              ctx.channel().remoteAddress(), c.getMessage());
        } else {
          LOG.error("EFCP stream endpoint: closing the connection of partition {} ({}): {}", partition,
              ctx.channel().remoteAddress(), c.getMessage());
          events.add(new StreamEvent.Violation(partition, c.getMessage()));
        }
      } else {
        LOG.debug("EFCP stream endpoint: connection {} failed", ctx.channel().remoteAddress(), c);
      }
      ctx.close();
    }
  }
}
