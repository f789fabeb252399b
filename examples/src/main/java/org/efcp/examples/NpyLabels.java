package org.efcp.examples;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads a label vector from a NumPy {@code .npy} file: shape {@code (n,)} or {@code (n, 1)}, little-endian
 * signed or unsigned integers of 1–8 bytes or float32/float64 (what {@code np.save(path, y)} writes for the usual
 * label arrays). efcp-core's {@code org.efcp.io.Npy} reads 2-D float matrices only, hence this small reader.
 */
final class NpyLabels {

  private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
  private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*'([<|>=]?)([iuf])(\\d+)'");
  private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
  private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");

  private NpyLabels() {
  }

  /**
   * The labels in file order.
   *
   * @throws IllegalArgumentException starting with {@code path}: missing file, not a {@code .npy} file, a dtype
   *     or shape this reader does not take, or fewer data bytes than the header announces
   */
  static double[] read(Path path) throws IOException {
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      ByteBuffer prefix = readExactly(path, ch, 0, 10);
      for (int i = 0; i < MAGIC.length; i++) {
        if (prefix.get(i) != MAGIC[i]) {
          throw bad(path, "not a .npy file (missing the \\x93NUMPY magic string)");
        }
      }
      int major = prefix.get(6);
      long headerLength;
      long dictStart;
      if (major == 1) {
        headerLength = prefix.getShort(8) & 0xffff;
        dictStart = 10;
      } else if (major == 2 || major == 3) {
        headerLength = readExactly(path, ch, 8, 4).getInt(0) & 0xffffffffL;
        dictStart = 12;
      } else {
        throw bad(path, "unsupported .npy format version " + major);
      }
      if (headerLength > 1 << 20) {
        throw bad(path, "implausible header length " + headerLength);
      }
      ByteBuffer dictBytes = readExactly(path, ch, dictStart, (int) headerLength);
      String dict = new String(dictBytes.array(), major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
      Matcher descr = DESCR.matcher(dict);
      if (!descr.find() || descr.group(1).equals(">")) {
        throw bad(path, "unsupported dtype in header " + dict.trim() + " (expected little-endian integers or"
            + " float32/float64)");
      }
      char kind = descr.group(2).charAt(0);
      int size = Integer.parseInt(descr.group(3));
      boolean supported = kind == 'f' ? size == 4 || size == 8 : size == 1 || size == 2 || size == 4 || size == 8;
      if (!supported) {
        throw bad(path, "unsupported dtype " + descr.group(2) + size);
      }
      Matcher fortran = FORTRAN.matcher(dict);
      Matcher shape = SHAPE.matcher(dict);
      if (!fortran.find() || !shape.find()) {
        throw bad(path, "malformed header " + dict.trim());
      }
      long n = rows(path, shape.group(1));
      long dataStart = dictStart + headerLength;
      if (ch.size() - dataStart < n * size) {
        throw bad(path, "truncated data: shape needs " + n * size + " bytes, the file has "
            + Math.max(0, ch.size() - dataStart));
      }
      ByteBuffer data = readExactly(path, ch, dataStart, (int) (n * size));
      double[] labels = new double[(int) n];
      for (int i = 0; i < labels.length; i++) {
        labels[i] = element(data, i * size, kind, size);
      }
      return labels;
    } catch (NoSuchFileException e) {
      throw bad(path, "no such file");
    }
  }

  /** n for a shape {@code (n,)} or {@code (n, 1)}. */
  private static long rows(Path path, String shape) {
    List<Long> extents = new ArrayList<>();
    for (String part : shape.split(",")) {
      if (!part.isBlank()) {
        try {
          extents.add(Long.parseLong(part.trim()));
        } catch (NumberFormatException e) {
          throw bad(path, "malformed shape (" + shape + ")");
        }
      }
    }
    boolean vector = extents.size() == 1 || (extents.size() == 2 && extents.get(1) == 1);
    if (!vector) {
      throw bad(path, "shape (" + shape + ") is not a label vector (expected (n,) or (n, 1))");
    }
    long n = extents.get(0);
    if (n < 0 || n > Integer.MAX_VALUE / 8) {
      throw bad(path, "unsupported number of labels " + n);
    }
    return n;
  }

  private static double element(ByteBuffer data, int offset, char kind, int size) {
    if (kind == 'f') {
      return size == 4 ? data.getFloat(offset) : data.getDouble(offset);
    }
    long v = switch (size) {
      case 1 -> kind == 'u' ? data.get(offset) & 0xffL : data.get(offset);
      case 2 -> kind == 'u' ? data.getShort(offset) & 0xffffL : data.getShort(offset);
      case 4 -> kind == 'u' ? data.getInt(offset) & 0xffffffffL : data.getInt(offset);
      default -> data.getLong(offset);
    };
    // uint64 above 2^63 reads negative: still an invalid class index, as it should be.
    return v;
  }

  private static ByteBuffer readExactly(Path path, FileChannel ch, long position, int length) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(length).order(ByteOrder.LITTLE_ENDIAN);
    while (buf.hasRemaining()) {
      if (ch.read(buf, position + buf.position()) < 0) {
        throw bad(path, "file ends early (truncated header or data)");
      }
    }
    return buf;
  }

  private static IllegalArgumentException bad(Path path, String why) {
    return new IllegalArgumentException(path + ": " + why);
  }
}
