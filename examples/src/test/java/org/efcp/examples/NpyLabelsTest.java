package org.efcp.examples;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyLabelsTest {

  @TempDir
  Path tmp;

  /** A version-1.0 .npy file as NumPy writes it: header padded with spaces to 64 bytes, then the data. */
  private Path npy(String name, String descr, String shape, byte[] data) throws IOException {
    String dict = "{'descr': '" + descr + "', 'fortran_order': False, 'shape': " + shape + ", }";
    int total = (10 + dict.length() + 1 + 63) / 64 * 64;
    ByteBuffer b = ByteBuffer.allocate(total + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}).putShort((short) (total - 10));
    b.put(dict.getBytes(StandardCharsets.ISO_8859_1));
    while (b.position() < total - 1) {
      b.put((byte) ' ');
    }
    b.put((byte) '\n').put(data);
    Path p = tmp.resolve(name);
    Files.write(p, b.array());
    return p;
  }

  private static byte[] longs(long... v) {
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (long x : v) {
      b.putLong(x);
    }
    return b.array();
  }

  @Test
  void readsInt64VectorsAsNumPyWritesThem() throws IOException {
    assertArrayEquals(new double[] {3, 0, 999, 7},
        NpyLabels.read(npy("y.npy", "<i8", "(4,)", longs(3, 0, 999, 7))), 0.0);
  }

  @Test
  void readsUnsignedBytesAndFloatColumns() throws IOException {
    assertArrayEquals(new double[] {200, 1},
        NpyLabels.read(npy("u8.npy", "|u1", "(2,)", new byte[] {(byte) 200, 1})), 0.0);
    ByteBuffer f = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(2f).putFloat(5f);
    assertArrayEquals(new double[] {2, 5}, NpyLabels.read(npy("f4.npy", "<f4", "(2, 1)", f.array())), 0.0);
  }

  @Test
  void refusesMatricesBigEndianTruncatedAndMissingFilesNamingThePath() throws IOException {
    Path matrix = npy("m.npy", "<i8", "(2, 2)", longs(1, 2, 3, 4));
    Path bigEndian = npy("be.npy", ">i8", "(1,)", longs(1));
    Path truncated = npy("t.npy", "<i8", "(3,)", longs(1, 2));
    Path text = tmp.resolve("labels.txt");
    Files.writeString(text, "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n");
    for (Path p : new Path[] {matrix, bigEndian, truncated, text, tmp.resolve("missing.npy")}) {
      IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> NpyLabels.read(p));
      assertTrue(e.getMessage().startsWith(p + ": "), e.getMessage());
    }
  }
}
