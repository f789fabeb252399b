package org.efcp.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The context, module loading and kernel launches on a real device. */
@Tag("gpu")
class GpuContextTest {

  @Test
  void opensOneSharedContextOnAnAmpereOrNewerDevice() {
    GpuContext ctx = GpuTests.context();
    assertSame(ctx, GpuContext.open(0), "one context per device per JVM");
    assertEquals(0, ctx.ordinal());
    assertFalse(ctx.deviceName().isBlank(), "device name");
    assertTrue(ctx.computeCapability() >= 80, "compute capability " + ctx.computeCapability() + " < 80");
    ctx.close();
    ctx.synchronize();
    assertTrue(DevicePreference.AUTO.useGpu());
    assertTrue(DevicePreference.GPU.useGpu());
  }

  @Test
  void everyCommittedModuleLoadsAndHasEveryKernelItsSourceDeclares() {
    GpuContext ctx = GpuTests.context();
    List<String> modules = KernelSources.moduleNames();
    assertTrue(modules.contains("util"), "modules " + modules);
    for (String m : modules) {
      KernelModule module = ctx.module(m);
      assertSame(module, ctx.module(m), "modules are cached");
      List<String> kernels = KernelSources.kernelNames(m);
      assertFalse(kernels.isEmpty(), m + ".cu declares no kernel");
      for (String k : kernels) {
        Kernel kernel = module.kernel(k);
        assertEquals(k, kernel.name());
        assertSame(kernel, module.kernel(k), "kernels are cached");
      }
    }
  }

  @Test
  void missingModulesAndKernelsAreReportedByName() {
    GpuContext ctx = GpuTests.context();
    IllegalArgumentException m = assertThrows(IllegalArgumentException.class, () -> ctx.module("no_such_module"));
    assertTrue(m.getMessage().contains("/org/efcp/cuda/no_such_module.fatbin"), m.getMessage());
    CudaException k = assertThrows(CudaException.class, () -> ctx.module("util").kernel("no_such_kernel"));
    assertTrue(k.getMessage().contains("no_such_kernel"), k.getMessage());
  }

  @Test
  void fillWritesExactlyItsViewWhateverTheGridSize() {
    GpuContext ctx = GpuTests.context();
    Kernel fill = ctx.module("util").kernel("efcp_fill_f64");
    int n = 100_003;
    int pad = 16;
    int[][] grids = {{(n + 255) / 256, 256}, {3, 128}, {1, 32}};
    try (DeviceBuffer b = ctx.allocate(8L * (n + 2 * pad))) {
      for (int[] g : grids) {
        double[] init = new double[n + 2 * pad];
        Arrays.fill(init, -7.0);
        b.copyFrom(init, 0, init.length, 0);
        fill.launch(null, g[0], 1, g[1], 1, 0, b.view(8L * pad, 8L * n), 2.5, n);
        double[] back = new double[n + 2 * pad];
        b.copyTo(back, 0, back.length, 0);
        for (int i = 0; i < back.length; i++) {
          double expected = i >= pad && i < pad + n ? 2.5 : -7.0;
          if (back[i] != expected) {
            throw new AssertionError("grid " + g[0] + "x" + g[1] + ": element " + i + " is " + back[i]
                + ", expected " + expected + " (the view is [" + pad + ", " + (pad + n) + "))");
          }
        }
      }
    }
  }

  @Test
  void fillF32WritesFloats() {
    GpuContext ctx = GpuTests.context();
    int n = 1000;
    try (GpuStream s = ctx.createStream(); DeviceBuffer b = ctx.allocate(4L * n)) {
      ctx.module("util").kernel("efcp_fill_f32").launch(s, 4, 1, 256, 1, 0, b, -1.25f, n);
      s.synchronize();
      float[] back = new float[n];
      b.copyTo(back, 0, n, 0);
      for (int i = 0; i < n; i++) {
        assertEquals(-1.25f, back[i], "element " + i);
      }
    }
  }

  @Test
  void axpyMatchesAFusedMultiplyAddInJava() {
    GpuContext ctx = GpuTests.context();
    int n = 70_001;
    double a = -0.731;
    double[] x = GpuTests.randomDoubles(n, 11);
    double[] y = GpuTests.randomDoubles(n, 12);
    try (GpuStream s = ctx.createStream(); DeviceBuffer dx = ctx.allocate(8L * n);
        DeviceBuffer dy = ctx.allocate(8L * n)) {
      dx.copyFrom(x, 0, n, 0);
      dy.copyFrom(y, 0, n, 0);
      ctx.module("util").kernel("efcp_axpy_f64").launch(s, 40, 1, 256, 1, 0, dy, dx, a, n);
      s.synchronize();
      double[] back = new double[n];
      dy.copyTo(back, 0, n, 0);
      for (int i = 0; i < n; i++) {
        double expected = Math.fma(a, x[i], y[i]);
        if (back[i] != expected) {
          throw new AssertionError("element " + i + ": gpu " + back[i] + ", fma(a, x, y) " + expected);
        }
      }
    }
  }

  @Test
  void aBadLaunchConfigurationThrowsNamingTheKernel() {
    GpuContext ctx = GpuTests.context();
    Kernel fill = ctx.module("util").kernel("efcp_fill_f64");
    try (DeviceBuffer b = ctx.allocate(8 * 16)) {
      CudaException e = assertThrows(CudaException.class, () -> fill.launch(null, 1, 1, 4096, 1, 0, b, 1.0, 16));
      assertTrue(e.getMessage().contains("efcp_fill_f64"), e.getMessage());
      fill.launch(null, 1, 1, 32, 1, 0, b, 1.0, 16);
      ctx.synchronize();
    }
  }
}
