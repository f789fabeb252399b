package org.efcp.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;

import org.junit.jupiter.api.Test;

class KernelSourcesTest {
  @Test
  void kernelNamesIncludeLaunchBoundedAndMacroGeneratedKernels() {
    assertEquals(List.of("sgemm_nt", "sgemm_tn", "sgemm_nn"), KernelSources.kernelNames("gemm"));
    assertEquals(List.of("mchol_step_1", "mchol_step_2", "mchol_step_4", "mchol_step_8", "mchol_wave_1",
        "mchol_wave_2", "mchol_wave_4", "mchol_wave_8", "mchol_overlap_step_1", "mchol_overlap_step_2",
        "mchol_overlap_step_4", "mchol_overlap_step_8", "mchol_overlap_wave_1", "mchol_overlap_wave_2",
        "mchol_overlap_wave_4", "mchol_overlap_wave_8"), KernelSources.kernelNames("mfac_cholesky"));
    assertEquals(List.of("efcp_fill_f64", "efcp_fill_f32", "efcp_axpy_f64", "efcp_gather_rows"),
        KernelSources.kernelNames("util"));
  }
}
