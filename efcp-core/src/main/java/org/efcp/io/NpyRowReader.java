package org.efcp.io;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads a 2-D C-order float32 or float64 {@code .npy} file one row at a time into a {@code double[]}, so a
 * T × d file needs O(d) memory. Not thread-safe.
 */
public final class NpyRowReader implements Closeable {
  private final Path path;
  private final FileChannel channel;
  private final NpyHeader header;
  private final ByteBuffer buffer;
  private long position;
  private long nextRow;

  private NpyRowReader(Path path, FileChannel channel, NpyHeader header) {
    this.path = path;
    this.channel = channel;
    this.header = header;
    this.buffer = NpyHeader.rowChunkBuffer((long) header.cols() * header.dtype().itemSize());
    this.position = header.dataOffset();
  }

  /**
   * Opens {@code path} and validates its header (see {@link NpyHeader}) and length.
   *
   * @throws NpyFormatException if the file is missing, unreadable, not a {@code .npy} file, or holds anything
   *     but a 2-D C-order little-endian float32/float64 array with all its data present
   */
  public static NpyRowReader open(Path path) throws IOException {
    if (Files.isDirectory(path)) {
      throw new NpyFormatException(path + ": is a directory, not a .npy file");
    }
    FileChannel ch;
    try {
      ch = FileChannel.open(path, StandardOpenOption.READ);
    } catch (NoSuchFileException e) {
      throw new NpyFormatException(path + ": no such file");
    } catch (AccessDeniedException e) {
      throw new NpyFormatException(path + ": permission denied");
    }
    try {
      return new NpyRowReader(path, ch, NpyHeader.read(path, ch));
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  public NpyHeader header() {
    return header;
  }

  /** T, the number of rows. */
  public long rows() {
    return header.rows();
  }

  /** d, the number of columns (the length of every row). */
  public int cols() {
    return header.cols();
  }

  /** Index of the row the next {@link #readRow} returns (0-based). */
  public long nextRow() {
    return nextRow;
  }

  public boolean hasNext() {
    return nextRow < header.rows();
  }

  /**
   * Reads the next row into {@code out} (length {@link #cols()}), widening float32 to float64 exactly.
   *
   * @throws IllegalStateException if every row has been read
   * @throws NpyFormatException if the file ends early (it shrank after {@link #open})
   */
  public void readRow(double[] out) throws IOException {
    if (out.length != header.cols()) {
      throw new IllegalArgumentException("out: length " + out.length + " != cols " + header.cols());
    }
    if (!hasNext()) {
      throw new IllegalStateException("all " + header.rows() + " rows have been read");
    }
    int itemSize = header.dtype().itemSize();
    int done = 0;
    while (done < out.length) {
      int n = Math.min(out.length - done, buffer.capacity() / itemSize);
      buffer.clear().limit(n * itemSize);
      NpyHeader.readFully(channel, buffer, position);
      if (buffer.hasRemaining()) {
        throw new NpyFormatException(path + ": truncated data: the file ends inside row " + nextRow);
      }
      position += (long) n * itemSize;
      buffer.flip();
      if (header.dtype() == NpyDtype.FLOAT64) {
        buffer.asDoubleBuffer().get(out, done, n);
      } else {
        for (int i = 0; i < n; i++) {
          out[done + i] = buffer.getFloat(i * 4);
        }
      }
      done += n;
    }
    nextRow++;
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
