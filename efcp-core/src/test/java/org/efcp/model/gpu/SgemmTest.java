package org.efcp.model.gpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuStream;
import org.efcp.cuda.Kernel;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The SGEMM kernels against a float64 reference computed here by plain loops over the same float32 inputs.
 *
 * <p>Bound: each output is a float32 sum of a split's kChunk products accumulated by fused multiply-adds in
 * k order (plus one addition of the bias), so by the standard error bound of recursive summation
 * |computed − exact| ≤ γ·(Σ_k |a_k b_k| + |bias|) with γ = (kChunk + 2)·2⁻²⁴ (the splits are summed here in
 * float64). An indexing or tiling bug gives errors of the order of the values themselves; rounding stays
 * far below the bound (about √k·2⁻²⁴ in practice).
 */
@Tag("gpu")
class SgemmTest {
  private static GpuContext ctx;
  private static GpuStream stream;
  private static Sgemm sgemm;

  @BeforeAll
  static void open() {
    System.setProperty(Kernel.CHECKED_PROPERTY, "true");
    ctx = GpuContext.open(0);
    stream = ctx.createStream();
    sgemm = new Sgemm(ctx);
  }

  @AfterAll
  static void close() {
    stream.close();
  }

  @Test
  void smallAndAwkwardSizesMatchTheReferenceInBothLayouts() {
    int[][] shapes = {{1, 1, 1}, {17, 33, 65}, {129, 257, 63}, {128, 128, 8}, {3, 200, 9}};
    for (boolean nt : new boolean[] {true, false}) {
      for (int[] s : shapes) {
        check(nt, s[0], s[1], s[2], 0, 0, SgemmPlan.single(s[0], s[1], s[2]), nt, -1, 11);
      }
    }
  }

  @Test
  void paddedLeadingDimensionsAndUnalignedOperandsUseTheScalarPathCorrectly() {
    for (boolean nt : new boolean[] {true, false}) {
      // odd leading dimensions: no float4 access is allowed anywhere
      check(nt, 130, 131, 77, 3, 0, SgemmPlan.single(130, 131, 77), false, -1, 12);
      // aligned leading dimensions but operands starting 4 bytes into their buffers
      check(nt, 64, 256, 64, 4, 1, SgemmPlan.single(64, 256, 64), false, -1, 13);
    }
  }

  @Test
  void splitKPartialsSumToTheProduct() {
    for (boolean nt : new boolean[] {true, false}) {
      SgemmPlan p = SgemmPlan.splitK(130, 131, 1000, 132);
      assertTrue(p.splits() == 3, "expected 3 splits, got " + p);
      check(nt, 130, 131, 1000, 3, 0, p, false, -1, 14);
      check(nt, 256, 256, 4096, 0, 0, SgemmPlan.splitK(256, 256, 4096, 132), false, -1, 15);
    }
  }

  @Test
  void emptyKGivesZerosOrTheBias() {
    check(true, 5, 7, 0, 0, 0, SgemmPlan.single(5, 7, 0), true, -1, 16);
    check(false, 5, 7, 0, 0, 0, SgemmPlan.single(5, 7, 0), false, -1, 17);
  }

  @Test
  void gradientSizedProductMatchesOnSampledEntries() {
    check(false, 1000, 768, 8192, 0, 0, SgemmPlan.splitK(1000, 768, 8192, 132), false, 3000, 18);
    check(true, 8192, 1000, 768, 0, 0, SgemmPlan.single(8192, 1000, 768), true, 3000, 19);
  }

  /**
   * Runs C = A Bᵀ (nt: A m × k, B n × k) or C = Aᵀ B (tn: A k × m, B k × n) with leading dimensions padded by
   * {@code pad} and operands starting {@code offsetFloats} into their buffers, and compares every entry
   * ({@code samples} < 0) or the first and last two rows and columns plus {@code samples} random entries.
   */
  private static void check(boolean nt, int m, int n, int k, int pad, int offsetFloats, SgemmPlan plan,
      boolean withBias, int samples, long seed) {
    Random rnd = new Random(seed);
    int aRows = nt ? m : k;
    int aCols = nt ? k : m;
    int bRows = nt ? n : k;
    int bCols = nt ? k : n;
    int lda = Math.max(1, aCols) + pad;
    int ldb = Math.max(1, bCols) + pad;
    int ldc = n + pad;
    float[] a = random(offsetFloats + (long) aRows * lda, rnd);
    float[] b = random(offsetFloats + (long) bRows * ldb, rnd);
    float[] bias = random(n, rnd);
    int splits = plan.splits();
    long cFloats = (long) splits * m * ldc;
    String what = (nt ? "nt" : "tn") + " m=" + m + " n=" + n + " k=" + k + " lda=" + lda + " ldb=" + ldb
        + " ldc=" + ldc + " offset=" + offsetFloats + " " + plan + (withBias ? " +bias" : "");
    float[] c = new float[(int) cFloats];
    try (DeviceBuffer da = ctx.allocate(4L * Math.max(1, a.length));
        DeviceBuffer db = ctx.allocate(4L * Math.max(1, b.length));
        DeviceBuffer dc = ctx.allocate(4L * cFloats);
        DeviceBuffer dbias = ctx.allocate(4L * n)) {
      da.copyFrom(a, 0, a.length, 0);
      db.copyFrom(b, 0, b.length, 0);
      dbias.copyFrom(bias, 0, n, 0);
      DeviceBuffer va = da.view(4L * offsetFloats, da.bytes() - 4L * offsetFloats);
      DeviceBuffer vb = db.view(4L * offsetFloats, db.bytes() - 4L * offsetFloats);
      if (nt) {
        sgemm.nt(stream, plan, m, n, k, va, lda, vb, ldb, dc, ldc, withBias ? dbias : null);
      } else {
        sgemm.tn(stream, plan, m, n, k, va, lda, vb, ldb, dc, ldc);
      }
      stream.synchronize();
      dc.copyTo(c, 0, c.length, 0);
    }
    double gamma = (plan.kChunk() + 2) * 0x1p-24;
    int checked = 0;
    int bad = 0;
    StringBuilder firstBad = new StringBuilder();
    for (int i = 0; i < m; i++) {
      boolean edgeRow = i < 2 || i >= m - 2;
      for (int j = 0; j < n; j++) {
        boolean edge = edgeRow || j < 2 || j >= n - 2;
        if (samples >= 0 && !edge) {
          continue;
        }
        checked++;
        if (!entryOk(nt, a, b, c, bias, offsetFloats, lda, ldb, ldc, m, k, splits, withBias, gamma, i, j,
            firstBad)) {
          bad++;
        }
      }
    }
    for (int s = 0; s < Math.max(0, samples); s++) {
      int i = rnd.nextInt(m);
      int j = rnd.nextInt(n);
      checked++;
      if (!entryOk(nt, a, b, c, bias, offsetFloats, lda, ldb, ldc, m, k, splits, withBias, gamma, i, j,
          firstBad)) {
        bad++;
      }
    }
    if (bad > 0) {
      fail(what + ": " + bad + " of " + checked + " checked entries exceed the bound; first: " + firstBad);
    }
  }

  private static boolean entryOk(boolean nt, float[] a, float[] b, float[] c, float[] bias, int off, int lda,
      int ldb, int ldc, int m, int k, int splits, boolean withBias, double gamma, int i, int j,
      StringBuilder firstBad) {
    double exact = withBias ? bias[j] : 0;
    double magnitude = withBias ? Math.abs(bias[j]) : 0;
    for (int p = 0; p < k; p++) {
      double x = nt ? a[off + i * lda + p] : a[off + p * lda + i];
      double y = nt ? b[off + j * ldb + p] : b[off + p * ldb + j];
      exact += x * y;
      magnitude += Math.abs(x * y);
    }
    double got = 0;
    for (int s = 0; s < splits; s++) {
      got += c[(int) ((long) s * m * ldc + (long) i * ldc + j)];
    }
    double err = Math.abs(got - exact);
    double bound = gamma * magnitude + Float.MIN_NORMAL;
    if (err <= bound) {
      return true;
    }
    if (firstBad.length() == 0) {
      firstBad.append("C[").append(i).append("][").append(j).append("] = ").append(got).append(", exact ")
          .append(exact).append(", |error| ").append(err).append(" > bound ").append(bound)
          .append(" (sum |a b| = ").append(magnitude).append(')');
    }
    return false;
  }

  private static float[] random(long count, Random rnd) {
    float[] v = new float[(int) count];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rnd.nextGaussian();
    }
    return v;
  }
}
