package org.efcp.io;

import java.io.IOException;
import java.nio.file.Path;

/**
 * NumPy {@code .npy} files holding 2-D C-order matrices: read float32 ({@code '<f4'}) or float64
 * ({@code '<f8'}) with header versions 1.0, 2.0 and 3.0; write float64. Rows are steps and columns
 * coordinates (a T × d gradient or update file). For large files use {@link NpyRowReader} and
 * {@link NpyRowWriter}, which hold one row at a time. Values are returned as stored: NaN and infinities are
 * the caller's to check.
 */
public final class Npy {
  private Npy() {}

  /** Opens a row-streaming reader (see {@link NpyRowReader#open}). */
  public static NpyRowReader openRows(Path path) throws IOException {
    return NpyRowReader.open(path);
  }

  /** Creates a row-streaming float64 writer for a {@code rows × cols} array (see {@link NpyRowWriter#create}). */
  public static NpyRowWriter createRows(Path path, long rows, int cols) throws IOException {
    return NpyRowWriter.create(path, rows, cols);
  }

  /**
   * Reads the whole matrix into memory ({@code [row][col]}, float32 widened exactly to float64).
   *
   * @throws NpyFormatException for any file this package does not read (see {@link NpyRowReader#open}), or
   *     one with 2^31 rows or more
   */
  public static double[][] read(Path path) throws IOException {
    try (NpyRowReader reader = NpyRowReader.open(path)) {
      if (reader.rows() > Integer.MAX_VALUE - 8) {
        throw new NpyFormatException(path + ": too many rows to hold in memory: " + reader.rows());
      }
      double[][] m = new double[(int) reader.rows()][reader.cols()];
      for (double[] row : m) {
        reader.readRow(row);
      }
      return m;
    }
  }

  /**
   * Writes {@code matrix} (rows of equal length) as a float64 C-order {@code .npy} file.
   *
   * @throws IllegalArgumentException if the rows differ in length
   */
  public static void write(Path path, double[][] matrix) throws IOException {
    int cols = matrix.length == 0 ? 0 : matrix[0].length;
    for (int r = 0; r < matrix.length; r++) {
      if (matrix[r].length != cols) {
        throw new IllegalArgumentException("matrix: row " + r + " has length " + matrix[r].length + ", row 0 has " + cols);
      }
    }
    try (NpyRowWriter writer = NpyRowWriter.create(path, matrix.length, cols)) {
      for (double[] row : matrix) {
        writer.writeRow(row);
      }
    }
  }
}
