package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;

import org.efcp.optim.SparseVector;

/**
 * Checks of one step of a harness's output (read in order from {@link KernelEmulation#readResult}) against the CPU
 * pipeline, for the parts that several harnesses write in the same format.
 */
final class EmulationChecks {
  private EmulationChecks() {
  }

  /**
   * The slot's k indices (int32) and k values (float32), then the error buffer (d doubles): all bitwise the CPU's
   * selection {@code c} and error buffer {@code error}.
   */
  static void assertSelection(int step, SparseVector c, double[] error, ByteBuffer result) {
    for (int q = 0; q < c.nnz(); q++) {
      int index = result.getInt();
      if (index != c.indices()[q]) {
        fail("step " + step + ": index #" + q + " is " + index + " emulated, " + c.indices()[q] + " on the CPU");
      }
    }
    for (int q = 0; q < c.nnz(); q++) {
      float value = result.getFloat();
      if (Float.floatToRawIntBits(value) != Float.floatToRawIntBits(c.values()[q])) {
        fail("step " + step + ": value #" + q + " is " + value + " emulated, " + c.values()[q] + " on the CPU");
      }
    }
    for (int i = 0; i < error.length; i++) {
      double e = result.getDouble();
      if (Double.doubleToRawLongBits(e) != Double.doubleToRawLongBits(error[i])) {
        fail("step " + step + ": error entry " + i + " is " + e + " emulated, " + error[i] + " on the CPU");
      }
    }
  }

  /** The slot's dense window row (d float32): bitwise (float) g. */
  static void assertWindowRow(int step, double[] g, ByteBuffer result) {
    for (int i = 0; i < g.length; i++) {
      float x = result.getFloat();
      if (Float.floatToRawIntBits(x) != Float.floatToRawIntBits((float) g[i])) {
        fail("step " + step + ": window entry " + i + " is " + x + " emulated, (float) g = " + (float) g[i]);
      }
    }
  }

  /** u (d doubles): within {@code tolerance} of the CPU's u, max-norm relative. */
  static void assertDirection(int step, double[] u, ByteBuffer result, double tolerance) {
    GpuPipelineTesting.assertClose(step, u, KernelEmulation.nextDoubles(result, u.length), tolerance);
  }
}
