package org.efcp.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import jcuda.Pointer;
import jcuda.driver.JCudaDriver;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * What the emulated CUDA driver (src/test/emulation/libcuda.cpp) promises the gpu-tagged tests that run on it: work
 * waits in its stream until the host synchronises, so a missing synchronisation shows as stale data; fresh device
 * memory is NaN, not zero; copies outside an allocation fail. Runs only in the gpu-emulated Surefire run (the
 * timing of a real device decides none of this).
 */
@Tag("gpu")
class EmulatedDriverTest {
  private GpuContext ctx;

  @BeforeEach
  void emulatedOnly() {
    assumeTrue(Boolean.getBoolean("efcp.cuda.emulated"), "not on the emulated driver");
    // The gpu-emulated run launches unchecked: a checked launch synchronises after each kernel.
    assumeFalse(Boolean.getBoolean(Kernel.CHECKED_PROPERTY), "checked launches");
    ctx = GpuContext.open(0);
  }

  @Test
  void queuedWorkReachesPinnedMemoryOnlyWhenTheHostSynchronises() {
    int n = 1000;
    try (GpuStream s = ctx.createStream(); DeviceBuffer d = ctx.allocate(8L * n);
        PinnedBuffer host = ctx.allocatePinned(8L * n); GpuEvent done = ctx.createEvent(false)) {
      host.doubles().put(0, -3.0);
      ctx.module("util").kernel("efcp_fill_f64").launch(s, 4, 1, 256, 1, 0, d, 2.5, n);
      d.copyToAsync(host, 0, 8L * n, 0, s);
      done.record(s);
      assertEquals(-3.0, host.doubles().get(0), "the copy has not run before a synchronisation");
      assertFalse(done.hasArrived());
      done.synchronize();
      assertTrue(done.hasArrived());
      assertEquals(2.5, host.doubles().get(0));
      assertEquals(2.5, host.doubles().get(n - 1));
    }
  }

  @Test
  void pinnedStagingOverwrittenBeforeTheCopyRanSendsTheNewData() {
    try (GpuStream s = ctx.createStream(); DeviceBuffer d = ctx.allocate(8);
        PinnedBuffer host = ctx.allocatePinned(8)) {
      host.doubles().put(0, 1.0);
      d.copyFromAsync(host, 0, 8, 0, s);
      host.doubles().put(0, 2.0);  // a race on a device: here the copy always sees the new value
      s.synchronize();
      double[] back = new double[1];
      d.copyTo(back, 0, 1, 0);
      assertEquals(2.0, back[0]);
    }
  }

  @Test
  void freshDeviceMemoryIsNanAndCopiesPastTheEndFail() {
    try (DeviceBuffer d = ctx.allocate(16)) {
      double[] back = new double[2];
      d.copyTo(back, 0, 2, 0);
      assertTrue(Double.isNaN(back[0]) && Double.isNaN(back[1]), "fresh memory " + back[0] + ", " + back[1]);
      // Past the end of the pool's whole allocation (DeviceBuffer itself refuses copies past its own end first).
      double[] big = new double[1 << 20];
      assertThrows(jcuda.CudaException.class,
          () -> JCudaDriver.cuMemcpyDtoH(Pointer.to(big), d.pointer(), 8L * big.length));
    }
  }
}
