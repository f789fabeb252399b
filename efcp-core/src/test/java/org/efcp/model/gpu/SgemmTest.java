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
 * The SGEMM kernels (all three layouts, both precisions) against a float64 reference computed here by plain
 * loops over the same float32 inputs.
 *
 * <p>Bound at FP32: each output is a float32 sum of a split's kChunk products accumulated by fused multiply-adds
 * in k order (plus one addition of the bias), so by the standard error bound of recursive summation
 * |computed − exact| ≤ γ·(Σ_k |a_k b_k| + |bias|) with γ = (kChunk + 2)·2⁻²⁴ (the splits are summed here in
 * float64). At TF32 each operand is first rounded to 10 mantissa bits (relative error ≤ 2⁻¹¹ each, so ≤ 2⁻¹⁰ per
 * product) and the tensor cores' float32 accumulation is allowed 4× the fp32 rounding: γ = 2⁻¹⁰ +
 * (kChunk + 2)·2⁻²². An indexing or tiling bug gives errors of the order of the values themselves; rounding
 * stays far below the bounds (about √k·2⁻²⁴ in practice at FP32, about 3e-4 of the norm at TF32).
 */
@Tag("gpu")
class SgemmTest {
  private static GpuContext ctx;
  private static GpuStream stream;
  private static Sgemm sgemm;
  private static Sgemm tf32;

  /** The three operand layouts: C = A Bᵀ, Aᵀ B, A B. */
  private enum Op {
    NT, TN, NN
  }

  @BeforeAll
  static void open() {
    System.getProperties().putIfAbsent(Kernel.CHECKED_PROPERTY, "true");
    ctx = GpuContext.open(0);
    stream = ctx.createStream();
    sgemm = new Sgemm(ctx);
    tf32 = new Sgemm(ctx, SgemmPrecision.TF32);
  }

  @AfterAll
  static void close() {
    stream.close();
  }

  @Test
  void smallAndAwkwardSizesMatchTheReferenceInEveryLayoutAndPrecision() {
    int[][] shapes = {{1, 1, 1}, {17, 33, 65}, {129, 257, 63}, {128, 128, 8}, {3, 200, 9}};
    for (Sgemm g : new Sgemm[] {sgemm, tf32}) {
      for (Op op : Op.values()) {
        for (int[] s : shapes) {
          check(g, op, s[0], s[1], s[2], 0, 0, SgemmPlan.single(s[0], s[1], s[2]), op == Op.NT, -1, 11);
        }
      }
    }
  }

  @Test
  void paddedLeadingDimensionsAndUnalignedOperandsUseTheScalarPathCorrectly() {
    for (Sgemm g : new Sgemm[] {sgemm, tf32}) {
      for (Op op : Op.values()) {
        // odd leading dimensions: no float4 access is allowed anywhere
        check(g, op, 130, 131, 77, 3, 0, SgemmPlan.single(130, 131, 77), false, -1, 12);
        // aligned leading dimensions but operands starting 4 bytes into their buffers
        check(g, op, 64, 256, 64, 4, 1, SgemmPlan.single(64, 256, 64), false, -1, 13);
      }
    }
  }

  @Test
  void splitKPartialsSumToTheProduct() {
    for (Sgemm g : new Sgemm[] {sgemm, tf32}) {
      for (Op op : Op.values()) {
        SgemmPlan p = SgemmPlan.splitK(130, 131, 1000, 132);
        assertTrue(p.splits() == 3, "expected 3 splits, got " + p);
        check(g, op, 130, 131, 1000, 3, 0, p, false, -1, 14);
        check(g, op, 256, 256, 4096, 0, 0, SgemmPlan.splitK(256, 256, 4096, 132), false, -1, 15);
      }
    }
  }

  @Test
  void emptyKGivesZerosOrTheBias() {
    for (Sgemm g : new Sgemm[] {sgemm, tf32}) {
      check(g, Op.NT, 5, 7, 0, 0, 0, SgemmPlan.single(5, 7, 0), true, -1, 16);
      check(g, Op.TN, 5, 7, 0, 0, 0, SgemmPlan.single(5, 7, 0), false, -1, 17);
      check(g, Op.NN, 5, 7, 0, 0, 0, SgemmPlan.single(5, 7, 0), false, -1, 17);
    }
  }

  @Test
  @Tag("device-only")
  void gradientSizedProductMatchesOnSampledEntries() {
    for (Sgemm g : new Sgemm[] {sgemm, tf32}) {
      check(g, Op.TN, 1000, 768, 8192, 0, 0, SgemmPlan.splitK(1000, 768, 8192, 132), false, 3000, 18);
      check(g, Op.NT, 8192, 1000, 768, 0, 0, SgemmPlan.single(8192, 1000, 768), true, 3000, 19);
      check(g, Op.NN, 8192, 784, 512, 0, 0, SgemmPlan.single(8192, 784, 512), false, 3000, 20);
    }
  }

  /**
   * TF32 against float64 at K = 768 (the logits of the benchmark): the sampled entries' error is within 1e-3 of
   * their norm (expected about 3e-4), and above 1e-5 of it, which only operand rounding explains (fp32 stays
   * near 1e-7): the tensor-core kernel really ran.
   */
  @Test
  @Tag("device-only")
  void tf32IsWithin1eMinus3OfFloat64AtK768AndReallyRounds() {
    double tf32Error = check(tf32, Op.NT, 8192, 1000, 768, 0, 0, SgemmPlan.single(8192, 1000, 768), false, 3000,
        21);
    assertTrue(tf32Error <= 1e-3 && tf32Error > 1e-5, "TF32 relative norm error " + tf32Error
        + ", expected in (1e-5, 1e-3]");
    double fp32Error = check(sgemm, Op.NT, 8192, 1000, 768, 0, 0, SgemmPlan.single(8192, 1000, 768), false, 3000,
        21);
    assertTrue(fp32Error <= 1e-6, "FP32 relative norm error " + fp32Error);
  }

  /**
   * Runs C = A Bᵀ (nt: A m × k, B n × k), C = Aᵀ B (tn: A k × m, B k × n) or C = A B (nn: A m × k, B k × n) with
   * leading dimensions padded by {@code pad} and operands starting {@code offsetFloats} into their buffers, and
   * compares every entry ({@code samples} < 0) or the first and last two rows and columns plus {@code samples}
   * random entries with the precision's bound; returns ‖computed − exact‖ / ‖exact‖ over the checked entries.
   */
  private static double check(Sgemm g, Op op, int m, int n, int k, int pad, int offsetFloats, SgemmPlan plan,
      boolean withBias, int samples, long seed) {
    Random rnd = new Random(seed);
    int aRows = op == Op.TN ? k : m;
    int aCols = op == Op.TN ? m : k;
    int bRows = op == Op.NT ? n : k;
    int bCols = op == Op.NT ? k : n;
    int lda = Math.max(1, aCols) + pad;
    int ldb = Math.max(1, bCols) + pad;
    int ldc = n + pad;
    float[] a = random(offsetFloats + (long) aRows * lda, rnd);
    float[] b = random(offsetFloats + (long) bRows * ldb, rnd);
    float[] bias = random(n, rnd);
    int splits = plan.splits();
    long cFloats = (long) splits * m * ldc;
    String what = op + " " + g.precision() + " m=" + m + " n=" + n + " k=" + k + " lda=" + lda + " ldb=" + ldb
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
      switch (op) {
        case NT -> g.nt(stream, plan, m, n, k, va, lda, vb, ldb, dc, ldc, withBias ? dbias : null);
        case TN -> g.tn(stream, plan, m, n, k, va, lda, vb, ldb, dc, ldc);
        case NN -> g.nn(stream, plan, m, n, k, va, lda, vb, ldb, dc, ldc);
        default -> throw new IllegalStateException();
      }
      stream.synchronize();
      dc.copyTo(c, 0, c.length, 0);
    }
    double gamma = g.precision() == SgemmPrecision.TF32 ? 0x1p-10 + (plan.kChunk() + 2) * 0x1p-22
        : (plan.kChunk() + 2) * 0x1p-24;
    Operands ops = new Operands(op, a, b, c, bias, offsetFloats, lda, ldb, ldc, m, k, splits, withBias, gamma);
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
        if (!ops.entryOk(i, j, firstBad)) {
          bad++;
        }
      }
    }
    for (int s = 0; s < Math.max(0, samples); s++) {
      int i = rnd.nextInt(m);
      int j = rnd.nextInt(n);
      checked++;
      if (!ops.entryOk(i, j, firstBad)) {
        bad++;
      }
    }
    if (bad > 0) {
      fail(what + ": " + bad + " of " + checked + " checked entries exceed the bound; first: " + firstBad);
    }
    return Math.sqrt(ops.squaredError / Math.max(ops.squaredNorm, Double.MIN_NORMAL));
  }

  /** One product's operands and result, and the running error of the entries checked so far. */
  private static final class Operands {
    private final Op op;
    private final float[] a;
    private final float[] b;
    private final float[] c;
    private final float[] bias;
    private final int off;
    private final int lda;
    private final int ldb;
    private final int ldc;
    private final int m;
    private final int k;
    private final int splits;
    private final boolean withBias;
    private final double gamma;
    private double squaredError;
    private double squaredNorm;

    Operands(Op op, float[] a, float[] b, float[] c, float[] bias, int off, int lda, int ldb, int ldc, int m, int k,
        int splits, boolean withBias, double gamma) {
      this.op = op;
      this.a = a;
      this.b = b;
      this.c = c;
      this.bias = bias;
      this.off = off;
      this.lda = lda;
      this.ldb = ldb;
      this.ldc = ldc;
      this.m = m;
      this.k = k;
      this.splits = splits;
      this.withBias = withBias;
      this.gamma = gamma;
    }

    boolean entryOk(int i, int j, StringBuilder firstBad) {
      double exact = withBias ? bias[j] : 0;
      double magnitude = withBias ? Math.abs(bias[j]) : 0;
      for (int p = 0; p < k; p++) {
        double x = op == Op.TN ? a[off + p * lda + i] : a[off + i * lda + p];
        double y = op == Op.NT ? b[off + j * ldb + p] : b[off + p * ldb + j];
        exact += x * y;
        magnitude += Math.abs(x * y);
      }
      double got = 0;
      for (int s = 0; s < splits; s++) {
        got += c[(int) ((long) s * m * ldc + (long) i * ldc + j)];
      }
      double err = Math.abs(got - exact);
      squaredError += err * err;
      squaredNorm += exact * exact;
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
  }

  private static float[] random(long count, Random rnd) {
    float[] v = new float[(int) count];
    for (int i = 0; i < v.length; i++) {
      v[i] = (float) rnd.nextGaussian();
    }
    return v;
  }
}
