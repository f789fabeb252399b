package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** {@link GpuBenchTable} on lines in the formats of GpuStepBench, GpuGradientBench and torch_gpu_baseline.py. */
class GpuBenchTableTest {
  private static final String CARD = "NVIDIA H200";

  /** A bin/gpu-checks output: nvidia-smi, JUnit's tree, our benches, the PyTorch baselines. */
  private static final List<String> RUN = List.of(
      "NVIDIA H200, 580.159.04",
      "╷",
      "└─ JUnit Jupiter ✔",
      "[        37 tests successful      ]",
      ours("gpu_lr_gradient", "\"n\":8192,\"features\":768,\"classes\":1000,\"form\":\"device-resident\","
          + "\"median_ms\":0.8080,\"tflops\":31.14,\"runs\":100"),
      ours("gpu_lr_gradient", "\"n\":8192,\"features\":768,\"classes\":1000,\"form\":\"host-arrays\","
          + "\"median_ms\":2.8900,\"tflops\":8.71,\"runs\":20"),
      "{\"bench\":\"sgemm\",\"device\":\"NVIDIA H200\",\"op\":\"nt\",\"m\":8192,\"n\":1000,\"k\":768,\"splits\":1,"
          + "\"median_ms\":0.3550,\"tflops\":35.44,\"runs\":100}",
      "{\"bench\":\"cpu_lr_gradient\",\"device\":\"NVIDIA H200\",\"n\":8192,\"features\":768,\"classes\":1000,"
          + "\"gpu_speedup\":273.3,\"median_ms\":220.8000,\"tflops\":0.11,\"runs\":3}",
      ours("gpu_cpu_agreement", "\"n\":8192,\"features\":768,\"classes\":1000,\"loss_rel_diff\":5.100e-09,"
          + "\"grad_rel_norm_diff\":5.000e-07"),
      ours("gpu_lr_gradient", "\"n\":8192,\"features\":768,\"classes\":1000,\"precision\":\"tf32\","
          + "\"form\":\"device-resident\",\"median_ms\":0.4100,\"tflops\":61.30,\"runs\":100"),
      ours("gpu_mlp_gradient", "\"n\":8192,\"layers\":\"[784,512,256,10]\",\"activation\":\"relu\","
          + "\"precision\":\"fp32\",\"form\":\"device-resident\",\"median_ms\":0.6200,\"tflops\":20.10,\"runs\":100"),
      "{\"bench\":\"gpu_sparse_mfac_step\",\"api\":\"device\",\"device\":\"NVIDIA H200\",\"d\":769000,\"m\":1024,"
          + "\"k\":7690,\"damping\":0.000100000,\"steps\":200,\"median_ms\":0.2700,\"p90_ms\":0.2830,"
          + "\"min_ms\":0.2550,\"refreshes\":0,\"fill_1024_steps_ms\":301.2,\"last_drift\":2.000e-14}",
      "{\"bench\":\"gpu_sparse_mfac_step\",\"api\":\"device_pipelined\",\"device\":\"NVIDIA H200\",\"d\":769000,"
          + "\"m\":1024,\"k\":7690,\"damping\":0.000100000,\"steps\":200,\"mean_ms\":0.2500,\"refreshes\":0}",
      "{\"bench\":\"gpu_sparse_mfac_stages\",\"device\":\"NVIDIA H200\",\"d\":769000,\"m\":1024,\"k\":7690,"
          + "\"steps\":50,\"topk_median_ms\":0.0930,\"mxm_median_ms\":0.0730,\"combine_median_ms\":0.1100}",
      "{\"bench\":\"gpu_dense_mfac_step\",\"api\":\"device\",\"device\":\"NVIDIA H200\",\"d\":769000,\"m\":1024,"
          + "\"damping\":0.000100000,\"steps\":100,\"median_ms\":18.1000,\"p90_ms\":19.2000,\"min_ms\":17.0000,"
          + "\"refreshes\":287,\"fill_1024_steps_ms\":4100.0,\"last_drift\":9.000e-03,\"drift_tolerance\":1.000e-03,"
          + "\"memory_bytes\":3166617600}",
      "{\"bench\":\"gpu_dense_mfac_step\",\"api\":\"device_pipelined\",\"device\":\"NVIDIA H200\",\"d\":769000,"
          + "\"m\":1024,\"damping\":0.000100000,\"steps\":100,\"mean_ms\":3.6900,\"refreshes\":300}",
      "{\"bench\":\"cpu_sparse_mfac_step\",\"api\":\"host\",\"device\":\"cpu (16 threads)\",\"d\":769000,"
          + "\"m\":1024,\"k\":7690,\"damping\":0.000100000,\"steps\":20,\"median_ms\":10.0500,\"p90_ms\":11.0000,"
          + "\"min_ms\":9.8000,\"refreshes\":null,\"fill_1024_steps_ms\":10200.0}",
      torchCheck("sparse", "pytorch_best", "2.608e-10"),
      torchCheck("dense", "authors_algorithm", "1.205e-06"),
      torch("torch_lr_gradient", null, "\"n\":8192,\"features\":768,\"classes\":1000,\"precision\":\"fp32\","
          + "\"median_ms\":0.7,\"p90_ms\":0.71,\"min_ms\":0.69,\"tflops\":36.0,\"runs\":100"),
      torch("torch_lr_gradient", null, "\"n\":8192,\"features\":768,\"classes\":1000,\"precision\":\"tf32\","
          + "\"median_ms\":0.3,\"p90_ms\":0.31,\"min_ms\":0.29,\"tflops\":84.0,\"runs\":100"),
      torch("torch_sparse_mfac_step", "pytorch_best", mfacShape(true) + ",\"steps\":50,\"median_ms\":1.35,"
          + "\"p90_ms\":1.4,\"min_ms\":1.3"),
      torch("torch_sparse_mfac_step", "authors_algorithm", mfacShape(true) + ",\"steps\":20,\"median_ms\":26.5,"
          + "\"p90_ms\":27.1,\"min_ms\":26.0"),
      "Traceback (most recent call last):",
      "torch.OutOfMemoryError: CUDA out of memory.",
      "{\"bench\":\"torch_baseline\",\"part\":\"dense\",\"device\":\"NVIDIA H200\","
          + "\"error\":\"OutOfMemoryError: CUDA out of memory.\"}");

  @Test
  void comparesOursWithBothBaselinesAndTheTargets() {
    String table = GpuBenchTable.table(RUN);
    assertTrue(table.startsWith("GPU benchmarks on NVIDIA H200\n"), table);
    assertEquals(List.of("0.270", "26.50", "1.35", "98.1×", "5.00×", "≤ 0.5 ms", "met"), row(table, "sparse M-FAC"));
    assertEquals(List.of("0.808", "—", "0.700", "—", "0.87×", "≤ 1.05 ms", "met"), row(table, "LR gradient (8192 × "
        + "768 → 1000, fp32)"));
    assertEquals(List.of("0.410", "—", "0.300", "—", "0.73×", "—", "—"), row(table, "LR gradient (8192 × 768 → 1000,"
        + " TF32)"));
  }

  @Test
  void aMissingBaselineIsADashAndAMissedTargetIsNotMet() {
    // The dense baseline failed (the error line above): ours only, and 18.1 ms misses the 2 ms target.
    assertEquals(List.of("18.10", "—", "—", "—", "—", "≤ 2.0 ms", "not met"), row(GpuBenchTable.table(RUN),
        "dense M-FAC"));
    String oursOnly = GpuBenchTable.table(RUN.stream().filter(l -> !l.contains("torch_")).toList());
    assertEquals(List.of("0.270", "—", "—", "—", "—", "≤ 0.5 ms", "met"), row(oursOnly, "sparse M-FAC"));
    assertFalse(oursOnly.contains("PyTorch"), oursOnly);
  }

  @Test
  void withoutTheSyncedLineOursIsThePipelinedMean() {
    List<String> lines = RUN.stream().filter(l -> !l.contains("gpu_dense_mfac_step\",\"api\":\"device\"")).toList();
    assertEquals("3.69 (pipelined)", row(GpuBenchTable.table(lines), "dense M-FAC").get(0));
  }

  @Test
  void otherTimedGpuLinesAreOursOnlyRows() {
    String table = GpuBenchTable.table(RUN);
    assertEquals(List.of("2.89", "—", "—", "—", "—", "—", "ours only"), row(table, "gpu_lr_gradient form=host-arrays"));
    assertEquals(List.of("0.250 (mean)", "—", "—", "—", "—", "—", "ours only"),
        row(table, "gpu_sparse_mfac_step api=device_pipelined"));
    assertEquals("3.69 (mean)", row(table, "gpu_dense_mfac_step api=device_pipelined").get(0));
    assertEquals("0.620", row(table, "gpu_mlp_gradient form=device-resident precision=fp32").get(0));
    // Shown once, in their comparison rows; lines without a time, sgemm and cpu_ lines are not rows.
    for (String absent : List.of("gpu_sparse_mfac_step api=device |", "gpu_lr_gradient form=device-resident",
        "gpu_sparse_mfac_stages", "gpu_cpu_agreement", "sgemm", "cpu_")) {
      assertFalse(table.contains("| " + absent), absent);
    }
    // The header, the 4 comparisons and these 4.
    assertEquals(1 + 4 + 4, table.lines().filter(l -> l.startsWith("| ")).count(), table);
  }

  /** GpuStepBench's dense lines name their m×m kernel: one comparison row per kernel, each against the target. */
  @Test
  void denseLinesOfEachMxmKernelGiveARowEach() {
    List<String> lines = new ArrayList<>(RUN.stream().filter(l -> !l.contains("gpu_dense_mfac_step")).toList());
    lines.add(dense("rows", "device", "\"median_ms\":2.1700"));
    lines.add(dense("rows", "device_pipelined", "\"mean_ms\":2.1400"));
    lines.add(ours("gpu_mfac_cholesky_kernel", "\"mxm_kernel\":\"rows\",\"m\":1024,\"runs\":50,"
        + "\"median_ms\":0.6800"));
    lines.add(dense("wavefront", "device", "\"median_ms\":1.9000"));
    lines.add(dense("wavefront", "device_pipelined", "\"mean_ms\":1.8000"));
    lines.add(ours("gpu_mfac_cholesky_kernel", "\"mxm_kernel\":\"wavefront\",\"m\":1024,\"runs\":50,"
        + "\"median_ms\":0.4100"));
    lines.add(torch("torch_dense_mfac_step", "pytorch_best", mfacShape(false) + ",\"median_ms\":2.5"));
    lines.add(torch("torch_dense_mfac_step", "authors_algorithm", mfacShape(false) + ",\"median_ms\":40.0"));
    String table = GpuBenchTable.table(lines);
    String dense = "dense M-FAC step (d 769,000, m 1024), m×m kernel ";
    assertEquals(List.of("2.17", "40.00", "2.50", "18.4×", "1.15×", "≤ 2.0 ms", "not met"), row(table, dense + "rows"));
    assertEquals(List.of("1.90", "40.00", "2.50", "21.1×", "1.32×", "≤ 2.0 ms", "met"),
        row(table, dense + "wavefront"));
    assertEquals("2.14 (mean)", row(table, "gpu_dense_mfac_step api=device_pipelined mxm_kernel=rows").get(0));
    assertEquals("1.80 (mean)", row(table, "gpu_dense_mfac_step api=device_pipelined mxm_kernel=wavefront").get(0));
    assertEquals(List.of("0.680", "—", "—", "—", "—", "—", "ours only"),
        row(table, "gpu_mfac_cholesky_kernel mxm_kernel=rows"));
    assertEquals("0.410", row(table, "gpu_mfac_cholesky_kernel mxm_kernel=wavefront").get(0));
    // The header, 5 comparisons (dense twice) and 7 ours-only rows (3 of RUN, 2 pipelined, 2 kernel-alone).
    assertEquals(1 + 5 + 7, table.lines().filter(l -> l.startsWith("| ")).count(), table);
    assertFalse(table.contains("| dense M-FAC step (d 769,000, m 1024) |"), table);

    // Older lines without the field beside newer ones: their own, unlabelled row.
    List<String> mixed = new ArrayList<>(lines);
    mixed.addAll(RUN.stream().filter(l -> l.contains("gpu_dense_mfac_step\",\"api\":\"device\"")).toList());
    String both = GpuBenchTable.table(mixed);
    assertEquals("18.10", row(both, "dense M-FAC step (d 769,000, m 1024) |").get(0));
    assertEquals("1.90", row(both, dense + "wavefront").get(0));
  }

  /** The overlapped combination's dense lines (GpuStepBench's "combine") give rows of their own beside the separate's. */
  @Test
  void denseLinesOfEachCombinationGiveARowEach() {
    List<String> lines = new ArrayList<>(RUN.stream().filter(l -> !l.contains("gpu_dense_mfac_step")).toList());
    lines.add(dense("rows", "device", "\"median_ms\":2.1700").replace("\"mxm_kernel\":\"rows\"",
        "\"mxm_kernel\":\"rows\",\"combine\":\"separate\""));
    lines.add(dense("rows", "device", "\"median_ms\":1.8700").replace("\"mxm_kernel\":\"rows\"",
        "\"mxm_kernel\":\"rows\",\"combine\":\"overlapped\""));
    lines.add(dense("rows", "device_pipelined", "\"mean_ms\":1.8500").replace("\"mxm_kernel\":\"rows\"",
        "\"mxm_kernel\":\"rows\",\"combine\":\"overlapped\""));
    lines.add(torch("torch_dense_mfac_step", "pytorch_best", mfacShape(false) + ",\"median_ms\":2.5"));
    String table = GpuBenchTable.table(lines);
    String dense = "dense M-FAC step (d 769,000, m 1024), m×m kernel rows, ";
    assertEquals(List.of("2.17", "—", "2.50", "—", "1.15×", "≤ 2.0 ms", "not met"),
        row(table, dense + "separate combination"));
    assertEquals(List.of("1.87", "—", "2.50", "—", "1.34×", "≤ 2.0 ms", "met"),
        row(table, dense + "overlapped combination"));
    assertEquals("1.85 (mean)",
        row(table, "gpu_dense_mfac_step api=device_pipelined mxm_kernel=rows combine=overlapped").get(0));
  }

  @Test
  void notesTheSelfCheckAndFailedOrSkippedBaselines() {
    String table = GpuBenchTable.table(RUN);
    assertTrue(table.contains("* PyTorch self-check: 2 variants, max relative error 1.2e-06: all within tolerance\n"),
        table);
    assertTrue(table.contains("* PyTorch baseline dense failed: OutOfMemoryError: CUDA out of memory.\n"), table);

    List<String> failed = new ArrayList<>(RUN);
    failed.add(torchCheck("sparse", "authors_algorithm", "3.2e-02").replace("\"ok\":true", "\"ok\":false"));
    assertTrue(GpuBenchTable.table(failed).contains("max relative error 3.2e-02: FAILED sparse authors_algorithm "
        + "float32"), GpuBenchTable.table(failed));

    String skipped = GpuBenchTable.table(List.of("{\"bench\":\"torch_baseline\",\"skipped\":\"no CUDA\"}"));
    assertTrue(skipped.contains("* PyTorch baselines skipped: no CUDA"), skipped);
    assertEquals(List.of("—", "—", "—", "—", "—", "≤ 0.5 ms", "—"), row(skipped, "sparse M-FAC"));
  }

  @Test
  void namesBothCardsWhenTheyDiffer() {
    List<String> lines = new ArrayList<>(RUN);
    lines.add(torch("torch_dense_mfac_step", "pytorch_best", mfacShape(false) + ",\"median_ms\":2.5")
        .replace(CARD, "NVIDIA A100"));
    assertTrue(GpuBenchTable.table(lines).startsWith("GPU benchmarks on NVIDIA H200 / NVIDIA A100\n"));
  }

  @Test
  void parsesFlatObjectsOnly() {
    Map<String, Object> fields = GpuBenchTable.parse(
        " {\"s\":\"a\\\"b\\\\c\\n\\u00e9\", \"x\": -1.5e-3 ,\"t\":true,\"f\":false,\"z\":null,\"nan\":NaN} ").get();
    assertEquals("a\"b\\c\né", fields.get("s"));
    assertEquals(-1.5e-3, fields.get("x"));
    assertEquals(Boolean.TRUE, fields.get("t"));
    assertEquals(Boolean.FALSE, fields.get("f"));
    assertTrue(fields.containsKey("z") && fields.get("z") == null);
    assertTrue(Double.isNaN((Double) fields.get("nan")));
    assertEquals(Map.of(), GpuBenchTable.parse("{}").get());
    for (String notFlat : List.of("{\"a\":[1,2]}", "{\"a\":{\"b\":1}}", "{\"a\":1,}", "{\"a\" 1}", "{\"a\":1} {}",
        "{\"a\":\"open}", "{\"a\":x}", "[1]", "plain text", "")) {
      assertEquals(Optional.empty(), GpuBenchTable.parse(notFlat), notFlat);
    }
  }

  /** The cells after the label of the row whose label starts with {@code label}. */
  private static List<String> row(String table, String label) {
    String line = table.lines().filter(l -> l.startsWith("| " + label)).findFirst()
        .orElseThrow(() -> new AssertionError("no row " + label + " in\n" + table));
    List<String> cells = Arrays.stream(line.substring(2, line.length() - 2).split(" \\| ")).toList();
    return cells.subList(1, cells.size());
  }

  private static String ours(String bench, String fields) {
    return "{\"bench\":\"" + bench + "\",\"device\":\"" + CARD + "\"," + fields + "}";
  }

  /** A dense M-FAC line as GpuStepBench prints it, for m×m kernel {@code kernel}. */
  private static String dense(String kernel, String api, String time) {
    return "{\"bench\":\"gpu_dense_mfac_step\",\"api\":\"" + api + "\",\"mxm_kernel\":\"" + kernel + "\",\"device\":\""
        + CARD + "\",\"d\":769000,\"m\":1024,\"damping\":0.000100000,\"steps\":100," + time + ",\"refreshes\":0}";
  }

  /** A line as torch_gpu_baseline.py prints it (json.dumps, compact); {@code variant} null for none. */
  private static String torch(String bench, String variant, String fields) {
    return "{\"bench\":\"" + bench + "\"," + (variant == null ? "" : "\"variant\":\"" + variant + "\",")
        + "\"device\":\"" + CARD + "\"," + fields + "}";
  }

  private static String mfacShape(boolean sparse) {
    return "\"d\":769000,\"m\":1024," + (sparse ? "\"k\":7690," : "") + "\"damping\":0.0001,\"dtype\":\"float32\","
        + "\"mxm\":\"float64\",\"dots\":\"" + (sparse ? "fp32_products_fp64_sum" : "fp32_gemv_to_fp64") + "\"";
  }

  private static String torchCheck(String kind, String variant, String err) {
    return "{\"bench\":\"torch_self_check\",\"kind\":\"" + kind + "\",\"variant\":\"" + variant + "\",\"device\":\""
        + CARD + "\",\"dtype\":\"float32\",\"damping\":10.0,\"d\":2000,\"m\":16,\"k\":20,\"steps\":37,"
        + "\"max_rel_err\":" + err + ",\"tolerance\":0.0001,\"ok\":true}";
  }
}
