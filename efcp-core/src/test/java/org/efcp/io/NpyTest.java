package org.efcp.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {
  @TempDir Path dir;

  /** The matrix in numpy_f8_v2.npy / numpy_f8_v3.npy (written by NumPy 2.4.6). */
  private static final double[][] NUMPY_F8 = {{1.0 / 3, -2.5e-300, 7.0}, {Math.PI, -0.0, 1e300}};

  // ---- independent writers: raw .npy bytes built by hand ----

  /** magic, version major.0, little-endian length (2 bytes for v1, 4 otherwise), header text, data. */
  static byte[] npy(int major, String header, byte[] data) {
    byte[] text = header.getBytes(major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
    int lengthBytes = major == 1 ? 2 : 4;
    ByteBuffer b = ByteBuffer.allocate(8 + lengthBytes + text.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
    if (major == 1) {
      b.putShort((short) text.length);
    } else {
      b.putInt(text.length);
    }
    return b.put(text).put(data).array();
  }

  static byte[] floats(float... v) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (float x : v) {
      b.putFloat(x);
    }
    return b.array();
  }

  static byte[] doubles(double... v) {
    ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    for (double x : v) {
      b.putDouble(x);
    }
    return b.array();
  }

  private Path file(String name, byte[] bytes) throws IOException {
    Path p = dir.resolve(name);
    Files.write(p, bytes);
    return p;
  }

  private static Path fixture(String name) throws URISyntaxException {
    return Path.of(NpyTest.class.getResource(name).toURI());
  }

  private static String message(Path p) {
    return assertThrows(NpyFormatException.class, () -> Npy.read(p)).getMessage();
  }

  // ---- reading what NumPy wrote ----

  @Test
  void readsNumpyFloat32VersionOneWidenedExactly() throws Exception {
    double[][] m = Npy.read(fixture("numpy_f4_v1.npy"));
    assertEquals(3, m.length);
    for (int r = 0; r < 3; r++) {
      for (int c = 0; c < 4; c++) {
        assertEquals((r * 4 + c) * 0.5 - 1.0, m[r][c], 0.0);
      }
    }
    try (NpyRowReader reader = Npy.openRows(fixture("numpy_f4_v1.npy"))) {
      assertEquals(NpyDtype.FLOAT32, reader.header().dtype());
      assertEquals(1, reader.header().majorVersion());
      assertEquals(128, reader.header().dataOffset());
    }
  }

  @Test
  void readsNumpyFloat64VersionsTwoAndThreeBitExactly() throws Exception {
    for (String name : new String[] {"numpy_f8_v2.npy", "numpy_f8_v3.npy"}) {
      double[][] m = Npy.read(fixture(name));
      assertEquals(2, m.length, name);
      for (int r = 0; r < 2; r++) {
        for (int c = 0; c < 3; c++) {
          assertEquals(Double.doubleToRawLongBits(NUMPY_F8[r][c]), Double.doubleToRawLongBits(m[r][c]), name);
        }
      }
    }
    try (NpyRowReader reader = Npy.openRows(fixture("numpy_f8_v3.npy"))) {
      assertEquals(3, reader.header().majorVersion());
      assertEquals(NpyDtype.FLOAT64, reader.header().dtype());
    }
  }

  @Test
  void rejectsNumpyFilesOfUnsupportedKinds() throws Exception {
    assertTrue(message(fixture("numpy_fortran.npy")).contains("fortran_order True is not supported"));
    String i8 = message(fixture("numpy_i8.npy"));
    assertTrue(i8.contains("unsupported dtype '<i8'"), i8);
    String be = message(fixture("numpy_f8_bigendian.npy"));
    assertTrue(be.contains("unsupported dtype '>f8'") && be.contains("big-endian"), be);
    String oneD = message(fixture("numpy_1d.npy"));
    assertTrue(oneD.contains("not 2-D: shape (3,)"), oneD);
    String threeD = message(fixture("numpy_3d.npy"));
    assertTrue(threeD.contains("not 2-D: shape (2, 3, 4)"), threeD);
  }

  // ---- writing ----

  @Test
  void writesTheHeaderNumpyWritesAndRoundTripsBitExactly() throws Exception {
    double[][] m = {{0.1, -0.0, Double.MIN_VALUE}, {Double.MAX_VALUE, 1e-310, -7.25}};
    Path p = dir.resolve("u.npy");
    Npy.write(p, m);
    byte[] bytes = Files.readAllBytes(p);
    // np.save(f, np.zeros((2, 3))) with NumPy 2.4.6: version 1.0, header length 0x76, total header 128 bytes.
    String dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";
    byte[] expectedHeader = npy(1, dict + " ".repeat(118 - dict.length() - 1) + "\n", new byte[0]);
    assertArrayEquals(expectedHeader, Arrays.copyOf(bytes, 128));
    assertArrayEquals(doubles(0.1, -0.0, Double.MIN_VALUE, Double.MAX_VALUE, 1e-310, -7.25),
        Arrays.copyOfRange(bytes, 128, bytes.length));
    double[][] back = Npy.read(p);
    for (int r = 0; r < 2; r++) {
      for (int c = 0; c < 3; c++) {
        assertEquals(Double.doubleToRawLongBits(m[r][c]), Double.doubleToRawLongBits(back[r][c]));
      }
    }
  }

  @Test
  void headerLengthIsAlignedTo64BytesForEveryShape() throws Exception {
    long[][] shapes = {{0, 1}, {1, 1}, {7, 123_456}, {123_456_789L, 7}, {3_000_000_000L, 2}};
    for (long[] s : shapes) {
      byte[] h = NpyHeader.encode(NpyDtype.FLOAT64, s[0], (int) s[1]);
      assertEquals(0, h.length % 64, Arrays.toString(s));
      assertEquals(1, h[6]);
      assertEquals('\n', h[h.length - 1]);
      int len = (h[8] & 0xff) | (h[9] & 0xff) << 8;
      assertEquals(h.length - 10, len);
      assertTrue(new String(h, StandardCharsets.ISO_8859_1).contains("'shape': (" + s[0] + ", " + s[1] + "), }"));
    }
  }

  @Test
  void streamsRowsLongerThanTheIoChunkInBothDtypes() throws Exception {
    int cols = 300_001; // 2.4 MB per float64 row: several 1 MiB chunks and a partial one
    double[] row0 = new double[cols];
    double[] row1 = new double[cols];
    for (int i = 0; i < cols; i++) {
      row0[i] = i * 0.25;
      row1[i] = -i;
    }
    Path p64 = dir.resolve("big.npy");
    try (NpyRowWriter w = Npy.createRows(p64, 2, cols)) {
      w.writeRow(row0);
      w.writeRow(row1);
      assertEquals(2, w.rowsWritten());
    }
    float[] f = new float[2 * cols];
    for (int i = 0; i < cols; i++) {
      f[i] = (float) row0[i];
      f[cols + i] = (float) row1[i];
    }
    Path p32 = file("big32.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, " + cols + "), }\n",
        floats(f)));
    for (Path p : new Path[] {p64, p32}) {
      try (NpyRowReader r = Npy.openRows(p)) {
        double[] got = new double[cols];
        assertEquals(0, r.nextRow());
        r.readRow(got);
        assertArrayEquals(row0, got, 0.0);
        assertTrue(r.hasNext());
        r.readRow(got);
        assertArrayEquals(row1, got, 0.0);
        assertFalse(r.hasNext());
        assertThrows(IllegalStateException.class, () -> r.readRow(got));
      }
    }
  }

  @Test
  void closingAWriterBeforeAllRowsFailsAndExtraRowsAreRefused() throws Exception {
    NpyRowWriter w = Npy.createRows(dir.resolve("short.npy"), 2, 3);
    w.writeRow(new double[3]);
    assertThrows(IllegalArgumentException.class, () -> w.writeRow(new double[4]));
    IOException e = assertThrows(IOException.class, w::close);
    assertTrue(e.getMessage().contains("wrote 1 of 2 rows"), e.getMessage());
    try (NpyRowWriter full = Npy.createRows(dir.resolve("full.npy"), 1, 2)) {
      full.writeRow(new double[2]);
      assertThrows(IllegalStateException.class, () -> full.writeRow(new double[2]));
    }
  }

  // ---- header variants ----

  @Test
  void parsesHeaderVariantsOfAllThreeVersions() throws Exception {
    byte[] data = doubles(1, 2, 3, 4, 5, 6);
    String[] headers = {
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }          \n",
        "{'descr':'<f8','fortran_order':False,'shape':(2,3)}",
        "  {  \"shape\" : ( 2 , 3 , ) ,\n \"fortran_order\" :False, \"descr\": \"<f8\" }  \n",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (2L, 3L), }\n",
    };
    for (int major = 1; major <= 3; major++) {
      for (String h : headers) {
        double[][] m = Npy.read(file("v.npy", npy(major, h, data)));
        assertArrayEquals(new double[] {1, 2, 3}, m[0], 0.0, h);
        assertArrayEquals(new double[] {4, 5, 6}, m[1], 0.0, h);
      }
    }
  }

  @Test
  void ignoresBytesAfterTheAnnouncedDataAsNumpyDoes() throws Exception {
    double[][] m = Npy.read(file("long.npy",
        npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }\n", floats(1.5f, -2f, 99f))));
    assertArrayEquals(new double[] {1.5, -2}, m[0], 0.0);
  }

  @Test
  void zeroRowsIsAValidMatrix() throws Exception {
    Path p = dir.resolve("empty.npy");
    Npy.write(p, new double[0][]);
    assertEquals(0, Npy.read(p).length);
    Npy.write(p, new double[4][0]);
    try (NpyRowReader r = Npy.openRows(p)) {
      assertEquals(4, r.rows());
      assertEquals(0, r.cols());
    }
  }

  // ---- bad input, each with its own message ----

  @Test
  void missingFileAndDirectoryAreNamed() throws Exception {
    Path missing = dir.resolve("nope.npy");
    assertEquals(missing + ": no such file", message(missing));
    assertTrue(message(dir).endsWith("is a directory, not a .npy file"));
  }

  @Test
  void badMagicOrEmptyFileIsNotNpy() throws Exception {
    assertTrue(message(file("text.npy", "hello, this is not numpy".getBytes(StandardCharsets.US_ASCII)))
        .contains("not a .npy file"));
    assertTrue(message(file("empty.npy", new byte[0])).contains("not a .npy file"));
    assertTrue(message(file("short.npy", new byte[] {(byte) 0x93, 'N', 'U'})).contains("not a .npy file"));
  }

  @Test
  void unsupportedVersionIsNamed() throws Exception {
    byte[] b = npy(2, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }", doubles(1));
    b[6] = 4;
    assertTrue(message(file("v4.npy", b)).contains("unsupported .npy format version 4.0"));
    b[6] = 1;
    b[7] = 1;
    assertTrue(message(file("v11.npy", b)).contains("unsupported .npy format version 1.1"));
  }

  @Test
  void unsupportedDtypesAreNamed() throws Exception {
    String[][] cases = {
        {"'<i8'", "unsupported dtype '<i8'"},
        {"'>f4'", "big-endian"},
        {"'<f2'", "unsupported dtype '<f2'"},
        {"'|u1'", "unsupported dtype '|u1'"},
        {"[('a', '<f8')]", "structured arrays are not supported"},
    };
    for (String[] c : cases) {
      String msg = message(file("t.npy",
          npy(1, "{'descr': " + c[0] + ", 'fortran_order': False, 'shape': (1, 1), }", doubles(1))));
      assertTrue(msg.contains(c[1]), msg);
    }
  }

  @Test
  void fortranOrderAndNon2dShapesAreRejected() throws Exception {
    assertTrue(message(file("f.npy", npy(1, "{'descr': '<f8', 'fortran_order': True, 'shape': (2, 1), }",
        doubles(1, 2)))).contains("fortran_order True is not supported"));
    String[][] cases = {{"(3,)", "not 2-D: shape (3,)"}, {"()", "not 2-D: shape ()"},
        {"(1, 1, 1)", "not 2-D: shape (1, 1, 1)"}};
    for (String[] c : cases) {
      String msg = message(file("s.npy",
          npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': " + c[0] + ", }", doubles(1, 2, 3))));
      assertTrue(msg.contains(c[1]), msg);
    }
    assertTrue(message(file("neg.npy", npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (-1, 2), }",
        doubles()))).contains("not a non-negative integer"));
  }

  @Test
  void truncatedDataAndHeaderAreReported() throws Exception {
    Path p = file("trunc.npy", npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }",
        doubles(new double[10])));
    String msg = message(p);
    assertTrue(msg.startsWith(p + ": truncated data"), msg);
    assertTrue(msg.contains("(3, 4) <f8 = 96 bytes") && msg.contains("only 80"), msg);
    byte[] header = npy(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1), }", doubles());
    assertTrue(message(file("h.npy", Arrays.copyOf(header, header.length - 5))).contains("truncated .npy header"));
  }

  @Test
  void malformedOrIncompleteHeaderDictsAreReported() throws Exception {
    String[][] cases = {
        {"{'descr': '<f8', 'fortran_order': False}", "missing key 'shape'"},
        {"{'descr': '<f8', 'shape': (1, 1)}", "missing key 'fortran_order'"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1)", "malformed header"},
        {"{'descr': '<f8', 'fortran_order': 0, 'shape': (1, 1)}", "'fortran_order' is 0"},
        {"{'descr': '<f8', 'fortran_order': False, 'shape': [1, 1]}", "'shape' is [1, 1], not a tuple"},
        {"{'descr': '<f8', 'fortran_order': Maybe, 'shape': (1, 1)}", "unknown name 'Maybe'"},
        {"['descr']", "not a dict"},
    };
    for (String[] c : cases) {
      String msg = message(file("m.npy", npy(1, c[0], doubles(1))));
      assertTrue(msg.contains(c[1]), c[0] + " -> " + msg);
    }
  }

  @Test
  void writesTheSameDataBytesAsNumpy() throws Exception {
    Path ours = dir.resolve("ours.npy");
    Npy.write(ours, NUMPY_F8);
    byte[] numpy = Files.readAllBytes(fixture("numpy_f8_v2.npy"));
    byte[] mine = Files.readAllBytes(ours);
    // Same data bytes as NumPy's version-2.0 file (header differs only in version and length field width).
    assertArrayEquals(Arrays.copyOfRange(numpy, 128, numpy.length), Arrays.copyOfRange(mine, 128, mine.length));
  }
}
