package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

import org.efcp.optim.DirectionPipeline;
import org.efcp.optim.ErrorFeedback;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.SparseVector;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The real kernel sources (rapids-kernels' topk.cu, sparse_mfac.cu and dense_mfac.cu) run on the CPU through a small
 * CUDA emulation (test resources {@code emulation/}: g++, the blocks of a launch one at a time on 256 threads,
 * barriers for {@code __syncthreads} and the warp shuffles) in the launch order of
 * {@link GpuSparseMfacPipeline#directionDevice} (and {@link GpuDenseMfacPipeline#directionDevice}), against the CPU
 * {@link DirectionPipeline} on the same gradients: every step the selection (indices and float32 values) and the error
 * buffer are bitwise the CPU's and u agrees to 1e-7 (max-norm relative). It checks the kernels' logic (indexing, tie
 * handling, scans, the last-block protocol, the m×m update), not device timing or memory ordering. Skipped only where
 * no g++ is on the PATH.
 */
class KernelEmulationTest {
  @TempDir
  static Path dir;
  private static KernelEmulation emulation;
  private static Path harness;
  private static Path denseHarness;

  @BeforeAll
  static void buildHarness() throws IOException, InterruptedException {
    assumeTrue(KernelEmulation.available(), "g++ is not available");
    emulation = new KernelEmulation(dir);
    harness = emulation.build("kernel_harness");
    denseHarness = emulation.build("dense_harness");
  }

  @ParameterizedTest(name = "d={0}, m={1}, k={2}, damping={3}")
  @CsvSource({"12011, 5, 150, 1e-5, 12", "4097, 3, 4096, 1e-2, 6", "1, 1, 1, 1e-3, 4", "8192, 5, 1, 1e-3, 7"})
  void emulatedKernelsReproduceTheCpuPipeline(int d, int m, int k, double damping, int steps)
      throws IOException, InterruptedException {
    GradientSequence gradients = new GradientSequence(d, 0.125, 17);
    Path in = dir.resolve("gradients.bin");
    Path out = dir.resolve("steps.bin");
    ByteBuffer g = ByteBuffer.allocate(8 * d * steps).order(ByteOrder.LITTLE_ENDIAN);
    for (int t = 0; t < steps; t++) {
      for (double x : gradients.gradient(t)) {
        g.putDouble(x);
      }
    }
    Files.write(in, g.array());
    emulation.run(harness, d, m, k, damping, steps, in, out);

    // A value > 1 is a count (1.5 counts as 1: the value 1 itself would be a density of 100 %).
    OptimizerConfig config = OptimizerConfig.builder(Method.SPARSE_MFAC, TensorLayout.flat(d)).window(m)
        .density(k == 1 ? 1.5 : k).damping(damping).build();
    assertEquals(k, config.topK(), "CPU k");
    DirectionPipeline cpu = DirectionPipeline.create(config);
    ErrorFeedback errorFeedback = (ErrorFeedback) cpu.compressor();
    ByteBuffer result = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals((long) steps * (8L * k + 16L * d + 8), result.remaining(), "harness output size");
    double[] u = new double[d];
    for (int t = 0; t < steps; t++) {
      cpu.direction(gradients.gradient(t), u);
      SparseVector c = (SparseVector) cpu.lastCompressed();
      for (int q = 0; q < k; q++) {
        int index = result.getInt();
        if (index != c.indices()[q]) {
          fail("step " + t + ": index #" + q + " is " + index + " emulated, " + c.indices()[q] + " on the CPU");
        }
      }
      for (int q = 0; q < k; q++) {
        float value = result.getFloat();
        if (Float.floatToRawIntBits(value) != Float.floatToRawIntBits(c.values()[q])) {
          fail("step " + t + ": value #" + q + " is " + value + " emulated, " + c.values()[q] + " on the CPU");
        }
      }
      double[] error = errorFeedback.error();
      for (int i = 0; i < d; i++) {
        double e = result.getDouble();
        if (Double.doubleToRawLongBits(e) != Double.doubleToRawLongBits(error[i])) {
          fail("step " + t + ": error entry " + i + " is " + e + " emulated, " + error[i] + " on the CPU");
        }
      }
      double diff = 0;
      double norm = 0;
      for (int i = 0; i < d; i++) {
        double x = result.getDouble();
        diff = Double.isNaN(x) ? Double.POSITIVE_INFINITY : Math.max(diff, Math.abs(x - u[i]));
        norm = Math.max(norm, Math.abs(u[i]));
      }
      assertTrue(diff <= 1e-7 * norm, "step " + t + ": max |u_emulated - u_cpu| = " + diff + ", max |u_cpu| = " + norm);
      double drift = result.getDouble();
      assertTrue(drift >= 0 && drift <= GpuSparseMfacPipeline.DRIFT_TOLERANCE, "step " + t + ": drift " + drift);
    }
  }

  /**
   * dense_mfac.cu (with sparse_mfac.cu's m×m kernels) in the launch order of
   * {@link GpuDenseMfacPipeline#directionDevice}: the window row is bitwise (float) g, u agrees with the CPU
   * {@link DirectionPipeline} for dense M-FAC to 1e-7, and the drift stays below the refresh tolerance. The shapes
   * cover d not a multiple of 4, several d-chunks and row tiles, partly filled tiles and m = 1.
   */
  @ParameterizedTest(name = "d={0}, m={1}, damping={2}")
  @CsvSource({"5001, 6, 1e-5, 14", "8200, 9, 1e-2, 12", "4096, 9, 1e-3, 10", "1, 1, 1e-3, 4", "3, 2, 1e-3, 5"})
  void emulatedDenseKernelsReproduceTheCpuPipeline(int d, int m, double damping, int steps)
      throws IOException, InterruptedException {
    GradientSequence gradients = new GradientSequence(d, 0.125, 23);
    Path in = dir.resolve("dense_gradients.bin");
    Path out = dir.resolve("dense_steps.bin");
    ByteBuffer g = ByteBuffer.allocate(8 * d * steps).order(ByteOrder.LITTLE_ENDIAN);
    for (int t = 0; t < steps; t++) {
      for (double x : gradients.gradient(t)) {
        g.putDouble(x);
      }
    }
    Files.write(in, g.array());
    emulation.run(denseHarness, d, m, damping, steps, in, out);

    DirectionPipeline cpu = DirectionPipeline.create(
        OptimizerConfig.builder(Method.DENSE_MFAC, TensorLayout.flat(d)).window(m).damping(damping).build());
    ByteBuffer result = ByteBuffer.wrap(Files.readAllBytes(out)).order(ByteOrder.LITTLE_ENDIAN);
    assertEquals((long) steps * (12L * d + 8), result.remaining(), "dense harness output size");
    double[] u = new double[d];
    for (int t = 0; t < steps; t++) {
      double[] grad = gradients.gradient(t);
      cpu.direction(grad, u);
      for (int i = 0; i < d; i++) {
        float x = result.getFloat();
        if (Float.floatToRawIntBits(x) != Float.floatToRawIntBits((float) grad[i])) {
          fail("step " + t + ": window entry " + i + " is " + x + " emulated, (float) g = " + (float) grad[i]);
        }
      }
      double diff = 0;
      double norm = 0;
      int worst = -1;
      for (int i = 0; i < d; i++) {
        double x = result.getDouble();
        double e = Double.isNaN(x) ? Double.POSITIVE_INFINITY : Math.abs(x - u[i]);
        if (e > diff) {
          diff = e;
          worst = i;
        }
        norm = Math.max(norm, Math.abs(u[i]));
      }
      assertTrue(diff <= 1e-7 * norm, "step " + t + ": max |u_emulated - u_cpu| = " + diff + " at " + worst
          + ", max |u_cpu| = " + norm);
      double drift = result.getDouble();
      assertTrue(drift >= 0 && drift <= GpuDenseMfacPipeline.DRIFT_TOLERANCE, "step " + t + ": drift " + drift);
    }
  }
}
