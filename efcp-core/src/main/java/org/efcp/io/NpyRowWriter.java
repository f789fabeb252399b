package org.efcp.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Writes a 2-D C-order float64 {@code .npy} file of a shape fixed up front, one row at a time (O(d) memory).
 * {@link #close()} fails if fewer rows than announced were written, so a short file is never mistaken for a
 * complete one. Not thread-safe.
 */
public final class NpyRowWriter implements Closeable {
  private final FileChannel channel;
  private final long rows;
  private final int cols;
  private final ByteBuffer buffer;
  private long written;

  private NpyRowWriter(FileChannel channel, long rows, int cols) {
    this.channel = channel;
    this.rows = rows;
    this.cols = cols;
    this.buffer = NpyHeader.rowChunkBuffer(8L * cols);
  }

  /**
   * Creates (or truncates) {@code path} and writes the header for a {@code rows × cols} float64 array.
   *
   * @throws IllegalArgumentException if rows or cols is negative
   */
  public static NpyRowWriter create(Path path, long rows, int cols) throws IOException {
    if (rows < 0 || cols < 0) {
      throw new IllegalArgumentException("shape: extents must be >= 0, got (" + rows + ", " + cols + ")");
    }
    FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING);
    try {
      writeFully(ch, ByteBuffer.wrap(NpyHeader.encode(NpyDtype.FLOAT64, rows, cols)));
      return new NpyRowWriter(ch, rows, cols);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  /** Number of rows written so far. */
  public long rowsWritten() {
    return written;
  }

  /**
   * Appends one row (length cols) as little-endian float64.
   *
   * @throws IllegalStateException if all announced rows have already been written
   */
  public void writeRow(double[] row) throws IOException {
    if (row.length != cols) {
      throw new IllegalArgumentException("row: length " + row.length + " != cols " + cols);
    }
    if (written == rows) {
      throw new IllegalStateException("all " + rows + " rows have been written");
    }
    int per = buffer.capacity() / 8;
    for (int done = 0; done < cols; done += per) {
      int n = Math.min(per, cols - done);
      buffer.clear();
      buffer.asDoubleBuffer().put(row, done, n);
      buffer.limit(n * 8);
      writeFully(channel, buffer);
    }
    written++;
  }

  /**
   * Closes the file.
   *
   * @throws IOException if fewer rows than announced were written (the file is then incomplete)
   */
  @Override
  public void close() throws IOException {
    channel.close();
    if (written != rows) {
      throw new IOException("incomplete .npy file: wrote " + written + " of " + rows + " rows");
    }
  }

  private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
    while (buf.hasRemaining()) {
      ch.write(buf);
    }
  }
}
