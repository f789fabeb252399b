package org.efcp.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The header of a 2-D C-order {@code .npy} file: format version, dtype, shape (rows × cols) and the byte
 * offset where the row-major data starts.
 *
 * <p>Format (NumPy NEP 1): magic {@code \x93NUMPY}, major and minor version bytes, the header length
 * (uint16 little-endian for version 1.0, uint32 for 2.0 and 3.0), then a Python dict literal with keys
 * {@code 'descr'}, {@code 'fortran_order'} and {@code 'shape'} (latin-1 for 1.0/2.0, UTF-8 for 3.0), padded
 * with spaces and a newline.
 */
public record NpyHeader(int majorVersion, NpyDtype dtype, long rows, int cols, long dataOffset) {
  static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  /** Headers larger than this are rejected as corrupt (NumPy itself refuses more than 10,000 bytes by default). */
  private static final int MAX_HEADER_BYTES = 1 << 20;
  private static final int ALIGNMENT = 64;
  /** Most bytes moved per channel call when streaming rows; a multiple of 8 so no element straddles two calls. */
  private static final int CHUNK_BYTES = 1 << 20;

  /** Number of data bytes that follow the header: rows · cols · item size. */
  public long dataBytes() {
    return rows * cols * dtype.itemSize();
  }

  /** The shape as Python prints it, e.g. {@code (3, 4)}. */
  public String shapeString() {
    return "(" + rows + ", " + cols + ")";
  }

  /**
   * Reads and validates the header at the start of {@code ch}, including that the file is long enough to hold
   * all the data the header announces.
   *
   * @param path used in messages only
   * @throws NpyFormatException naming the problem (bad magic, version, dtype, fortran order, rank, truncation)
   */
  static NpyHeader read(Path path, FileChannel ch) throws IOException {
    ByteBuffer prefix = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
    readFully(ch, prefix, 0);
    if (prefix.position() < 10 || !hasMagic(prefix)) {
      throw new NpyFormatException(path + ": not a .npy file (missing the \\x93NUMPY magic string)");
    }
    int major = prefix.get(6) & 0xff;
    int minor = prefix.get(7) & 0xff;
    if (major < 1 || major > 3 || minor != 0) {
      throw new NpyFormatException(path + ": unsupported .npy format version " + major + "." + minor
          + " (expected 1.0, 2.0 or 3.0)");
    }
    long headerLength;
    int lengthEnd;
    if (major == 1) {
      headerLength = prefix.getShort(8) & 0xffff;
      lengthEnd = 10;
    } else {
      if (prefix.position() < 12) {
        throw new NpyFormatException(path + ": truncated .npy header");
      }
      headerLength = prefix.getInt(8) & 0xffffffffL;
      lengthEnd = 12;
    }
    if (headerLength > MAX_HEADER_BYTES) {
      throw new NpyFormatException(path + ": .npy header length " + headerLength + " bytes is implausibly large");
    }
    ByteBuffer headerBytes = ByteBuffer.allocate((int) headerLength);
    readFully(ch, headerBytes, lengthEnd);
    if (headerBytes.hasRemaining()) {
      throw new NpyFormatException(path + ": truncated .npy header (announces " + headerLength + " bytes, file has "
          + headerBytes.position() + ")");
    }
    Charset charset = major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1;
    String text = new String(headerBytes.array(), charset);
    NpyHeader header;
    try {
      header = fromDict(major, text, lengthEnd + headerLength);
    } catch (IllegalArgumentException e) {
      throw new NpyFormatException(path + ": " + e.getMessage());
    }
    long available = ch.size() - header.dataOffset;
    if (available < header.dataBytes()) {
      throw new NpyFormatException(path + ": truncated data: the header announces shape " + header.shapeString()
          + " " + header.dtype.descr() + " = " + header.dataBytes() + " bytes, the file holds only "
          + Math.max(0, available) + " after the header");
    }
    return header;
  }

  private static NpyHeader fromDict(int major, String text, long dataOffset) {
    if (!(PyLiteralParser.parse(text) instanceof Map<?, ?> dict)) {
      throw new IllegalArgumentException("malformed header: not a dict: " + text.trim());
    }
    Object descr = require(dict, "descr");
    if (!(descr instanceof String d)) {
      throw new IllegalArgumentException("unsupported dtype " + descr + " (structured arrays are not supported;"
          + " expected '<f4' float32 or '<f8' float64)");
    }
    NpyDtype dtype = NpyDtype.fromDescr(d);
    Object fortran = require(dict, "fortran_order");
    if (!(fortran instanceof Boolean f)) {
      throw new IllegalArgumentException("malformed header: 'fortran_order' is " + fortran + ", not True/False");
    }
    if (f) {
      throw new IllegalArgumentException("fortran_order True is not supported (save a C-order array, e.g."
          + " np.save(path, np.ascontiguousarray(a)))");
    }
    Object shape = require(dict, "shape");
    if (!(shape instanceof PyLiteralParser.Tuple tuple)) {
      throw new IllegalArgumentException("malformed header: 'shape' is " + shape + ", not a tuple");
    }
    List<Object> extents = tuple.items();
    for (Object e : extents) {
      if (!(e instanceof Long n) || n < 0) {
        throw new IllegalArgumentException("malformed header: shape " + pythonTuple(extents)
            + " has an extent that is not a non-negative integer");
      }
    }
    if (extents.size() != 2) {
      throw new IllegalArgumentException("not 2-D: shape " + pythonTuple(extents)
          + " (expected a T x d matrix, one row per step)");
    }
    long rows = (Long) extents.get(0);
    long cols = (Long) extents.get(1);
    if (cols > Integer.MAX_VALUE - 8) {
      throw new IllegalArgumentException("too many columns: " + cols + " (at most " + (Integer.MAX_VALUE - 8) + ")");
    }
    try {
      Math.multiplyExact(Math.multiplyExact(rows, cols), dtype.itemSize());
    } catch (ArithmeticException e) {
      throw new IllegalArgumentException("shape " + pythonTuple(extents) + " is too large");
    }
    return new NpyHeader(major, dtype, rows, (int) cols, dataOffset);
  }

  /**
   * The complete header (magic through padding) of a 2-D C-order array: version 1.0 when the dict
   * fits a 16-bit length, else 2.0; the total length is a multiple of 64 bytes, as NumPy writes it.
   */
  static byte[] encode(NpyDtype dtype, long rows, int cols) {
    String dict = "{'descr': '" + dtype.descr() + "', 'fortran_order': False, 'shape': (" + rows + ", " + cols
        + "), }";
    for (int major = 1; major <= 2; major++) {
      int prefix = major == 1 ? 10 : 12;
      int unpadded = prefix + dict.length() + 1;
      int total = (unpadded + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
      int headerLength = total - prefix;
      if (major == 2 || headerLength <= 0xffff) {
        ByteBuffer out = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        out.put(MAGIC).put((byte) major).put((byte) 0);
        if (major == 1) {
          out.putShort((short) headerLength);
        } else {
          out.putInt(headerLength);
        }
        out.put(dict.getBytes(StandardCharsets.ISO_8859_1));
        while (out.position() < total - 1) {
          out.put((byte) ' ');
        }
        out.put((byte) '\n');
        return out.array();
      }
    }
    throw new AssertionError("unreachable");
  }

  private static Object require(Map<?, ?> dict, String key) {
    if (!dict.containsKey(key)) {
      throw new IllegalArgumentException("malformed header: missing key '" + key + "'");
    }
    return dict.get(key);
  }

  private static String pythonTuple(List<Object> items) {
    if (items.size() == 1) {
      return "(" + items.get(0) + ",)";
    }
    StringBuilder sb = new StringBuilder("(");
    for (int i = 0; i < items.size(); i++) {
      sb.append(i == 0 ? "" : ", ").append(items.get(i));
    }
    return sb.append(')').toString();
  }

  private static boolean hasMagic(ByteBuffer prefix) {
    for (int i = 0; i < MAGIC.length; i++) {
      if (prefix.get(i) != MAGIC[i]) {
        return false;
      }
    }
    return true;
  }

  /** A little-endian buffer for streaming rows of {@code rowBytes} bytes: one row, but 8 to CHUNK_BYTES bytes. */
  static ByteBuffer rowChunkBuffer(long rowBytes) {
    return ByteBuffer.allocate((int) Math.max(8, Math.min(CHUNK_BYTES, rowBytes))).order(ByteOrder.LITTLE_ENDIAN);
  }

  /** Reads from {@code position} until {@code buf} is full or the file ends. */
  static void readFully(FileChannel ch, ByteBuffer buf, long position) throws IOException {
    while (buf.hasRemaining()) {
      int n = ch.read(buf, position);
      if (n < 0) {
        return;
      }
      position += n;
    }
  }
}
