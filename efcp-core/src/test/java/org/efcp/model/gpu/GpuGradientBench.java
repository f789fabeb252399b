package org.efcp.model.gpu;

import java.util.Arrays;
import java.util.Locale;
import java.util.Random;
import java.util.function.DoubleSupplier;
import jcuda.driver.CUevent;
import jcuda.driver.CUevent_flags;
import jcuda.driver.JCudaDriver;
import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuStream;
import org.efcp.model.Activation;
import org.efcp.model.DenseBlock;
import org.efcp.model.DifferentiableModel;
import org.efcp.model.MultilayerPerceptron;
import org.efcp.model.MultinomialLogisticRegression;

/**
 * The multinomial logistic-regression gradient for 8192 rows × 768 features → 1000 classes on the GPU, against
 * the CPU model on the same block. Prints one JSON line per measurement: the device-resident gradient (params
 * float32 and gradient float64 on the device; host clock around the call, which waits for the loss), the
 * host-array form (parameters up, gradient down), each of the two SGEMMs alone (CUDA events), the CPU model,
 * and the GPU–CPU agreement; then the device-resident gradient and its agreement with TF32 products. Then the
 * same for the multilayer perceptron 8192 rows × 784 → 512 → 256 → 10 (relu): device-resident gradient at FP32
 * and TF32, the CPU model, and the agreement of both. GPU timings are medians of 100 runs after 10 warm-ups;
 * TFLOP/s counts 4·n·F·C for the LR gradient, 2·n·(2·Σ_l s_l s_{l+1} + Σ_{l≥1} s_l s_{l+1}) for the MLP's
 * three products per layer (none back-propagated into the input), and 2·m·n·k per SGEMM. Not a test; runs in
 * well under a minute.
 */
public final class GpuGradientBench {
  private static final int ROWS = 8192;
  private static final int FEATURES = 768;
  private static final int CLASSES = 1000;
  private static final int WARMUPS = 10;
  private static final int RUNS = 100;
  private static final int CPU_RUNS = 3;
  private static final int[] MLP_LAYERS = {784, 512, 256, 10};

  private GpuGradientBench() {}

  public static void main(String[] args) {
    GpuContext ctx = GpuContext.open(0);
    String device = ctx.deviceName();
    Random rnd = new Random(1);
    DenseBlock block = randomBlock(FEATURES, CLASSES, rnd::nextGaussian, rnd);
    MultinomialLogisticRegression cpu = new MultinomialLogisticRegression(FEATURES, CLASSES, true);
    int d = cpu.numParameters();
    double[] params = new double[d];
    for (int k = 0; k < d; k++) {
      params[k] = 0.05 * rnd.nextGaussian();
    }
    double gradientFlop = 4.0 * ROWS * FEATURES * CLASSES;
    String shape = String.format(Locale.ROOT, "\"n\":%d,\"features\":%d,\"classes\":%d", ROWS, FEATURES, CLASSES);

    try (GpuMultinomialLogisticRegression model = new GpuMultinomialLogisticRegression(ctx, FEATURES, CLASSES, true);
        GpuBlock gpuBlock = model.upload(block);
        DeviceBuffer params32 = ctx.allocate(4L * d);
        DeviceBuffer grad64 = ctx.allocate(8L * d);
        GpuStream stream = ctx.createStream()) {
      params32.copyFrom(GpuBlock.toFloat(params), 0, d, 0);
      grad64.zero(stream);
      stream.synchronize();

      double deviceMs = deviceMedian(model, gpuBlock, params32, grad64);
      print(device, "gpu_lr_gradient", shape + ",\"form\":\"device-resident\"", deviceMs, gradientFlop, RUNS);

      double[] hostGrad = new double[d];
      int hostRuns = RUNS / 5;
      double hostMs = wallMedian(hostRuns, () -> model.addLossAndGradient(gpuBlock, params, hostGrad));
      print(device, "gpu_lr_gradient", shape + ",\"form\":\"host-arrays\"", hostMs, gradientFlop, hostRuns);

      timeSgemms(ctx, stream, device, gpuBlock, params32);

      Arrays.fill(hostGrad, 0);
      double gpuLoss = model.addLossAndGradient(gpuBlock, params, hostGrad);
      double[] cpuGrad = new double[d];
      double[] cpuLoss = new double[1];
      double cpuMedian = cpuMedian(cpu, block, params, cpuGrad, cpuLoss);
      print(device, "cpu_lr_gradient", shape + String.format(Locale.ROOT, ",\"gpu_speedup\":%.1f",
          cpuMedian / deviceMs), cpuMedian, gradientFlop, CPU_RUNS);
      System.out.printf(Locale.ROOT,
          "{\"bench\":\"gpu_cpu_agreement\",\"device\":\"%s\",%s,\"loss_rel_diff\":%.3e,\"grad_rel_norm_diff\":%.3e}%n",
          device, shape, Math.abs(gpuLoss - cpuLoss[0]) / Math.abs(cpuLoss[0]), relativeNormDifference(hostGrad,
              cpuGrad));

      try (GpuMultinomialLogisticRegression tf32 = new GpuMultinomialLogisticRegression(ctx, FEATURES, CLASSES, true,
          SgemmPrecision.TF32)) {
        String tf32Shape = shape + ",\"precision\":\"tf32\"";
        print(device, "gpu_lr_gradient", tf32Shape + ",\"form\":\"device-resident\"",
            deviceMedian(tf32, gpuBlock, params32, grad64), gradientFlop, RUNS);
        printAgreement(device, "lr", tf32Shape, tf32, gpuBlock, params, cpuLoss[0], cpuGrad);
      }
    }
    mlp(ctx, device, rnd);
  }

  /** The MLP lines: device-resident gradient at FP32 and TF32, the CPU model, and their agreement. */
  private static void mlp(GpuContext ctx, String device, Random rnd) {
    int f = MLP_LAYERS[0];
    int classes = MLP_LAYERS[MLP_LAYERS.length - 1];
    DenseBlock block = randomBlock(f, classes, rnd::nextDouble, rnd);
    MultilayerPerceptron cpu = new MultilayerPerceptron(MLP_LAYERS, Activation.RELU);
    int d = cpu.numParameters();
    double[] params = cpu.initialParameters(1);
    double products = 0;
    for (int l = 0; l + 1 < MLP_LAYERS.length; l++) {
      products += (l == 0 ? 2.0 : 3.0) * MLP_LAYERS[l] * MLP_LAYERS[l + 1];
    }
    double flop = 2.0 * ROWS * products;
    String shape = String.format(Locale.ROOT, "\"n\":%d,\"layers\":\"%s\",\"activation\":\"relu\"", ROWS,
        Arrays.toString(MLP_LAYERS).replace(" ", ""));

    double[] cpuGrad = new double[d];
    double[] cpuLoss = new double[1];
    double cpuMedian = cpuMedian(cpu, block, params, cpuGrad, cpuLoss);
    double fp32Ms = 0;
    for (SgemmPrecision precision : SgemmPrecision.values()) {
      try (GpuMultilayerPerceptron model = new GpuMultilayerPerceptron(ctx, MLP_LAYERS, Activation.RELU, precision);
          GpuBlock gpuBlock = model.upload(block);
          DeviceBuffer params32 = ctx.allocate(4L * d);
          DeviceBuffer grad64 = ctx.allocate(8L * d)) {
        params32.copyFrom(GpuBlock.toFloat(params), 0, d, 0);
        grad64.copyFrom(new double[d], 0, d, 0);
        String fields = shape + ",\"precision\":\"" + precision.name().toLowerCase(Locale.ROOT) + "\"";
        double ms = deviceMedian(model, gpuBlock, params32, grad64);
        if (precision == SgemmPrecision.FP32) {
          fp32Ms = ms;
        }
        print(device, "gpu_mlp_gradient", fields + ",\"form\":\"device-resident\"", ms, flop, RUNS);
        printAgreement(device, "mlp", fields, model, gpuBlock, params, cpuLoss[0], cpuGrad);
      }
    }
    print(device, "cpu_mlp_gradient", shape + String.format(Locale.ROOT, ",\"gpu_speedup\":%.1f",
        cpuMedian / fp32Ms), cpuMedian, flop, CPU_RUNS);
  }

  /** ROWS rows of F features drawn from {@code feature}, then uniform labels in [0, classes); unit weights. */
  private static DenseBlock randomBlock(int f, int classes, DoubleSupplier feature, Random rnd) {
    double[] x = new double[ROWS * f];
    for (int k = 0; k < x.length; k++) {
      x[k] = feature.getAsDouble();
    }
    double[] y = new double[ROWS];
    for (int i = 0; i < ROWS; i++) {
      y[i] = rnd.nextInt(classes);
    }
    return new DenseBlock(ROWS, f, x, y);
  }

  /** Median wall time of the device-resident gradient (which waits for the loss) over RUNS calls. */
  private static double deviceMedian(GpuModel model, GpuBlock block, DeviceBuffer params32, DeviceBuffer grad64) {
    return wallMedian(RUNS, () -> model.addLossAndGradient(block, params32, grad64));
  }

  /** Median host-clock time in ms of {@code runs} calls after WARMUPS warm-up calls. */
  private static double wallMedian(int runs, Runnable call) {
    double[] ms = new double[runs];
    for (int r = -WARMUPS; r < runs; r++) {
      long t0 = System.nanoTime();
      call.run();
      if (r >= 0) {
        ms[r] = (System.nanoTime() - t0) / 1e6;
      }
    }
    return median(ms);
  }

  /**
   * Median time in ms of CPU_RUNS CPU gradients from zero after one warm-up; the last run's loss is left in
   * {@code loss[0]} and its gradient in {@code grad}.
   */
  private static double cpuMedian(DifferentiableModel cpu, DenseBlock block, double[] params, double[] grad,
      double[] loss) {
    double[] ms = new double[CPU_RUNS];
    for (int r = -1; r < CPU_RUNS; r++) {
      Arrays.fill(grad, 0);
      long t0 = System.nanoTime();
      loss[0] = cpu.addLossAndGradient(block, params, grad);
      if (r >= 0) {
        ms[r] = (System.nanoTime() - t0) / 1e6;
      }
    }
    return median(ms);
  }

  /** ‖actual − expected‖ / ‖expected‖. */
  private static double relativeNormDifference(double[] actual, double[] expected) {
    double diff = 0;
    double norm = 0;
    for (int k = 0; k < expected.length; k++) {
      diff += (actual[k] - expected[k]) * (actual[k] - expected[k]);
      norm += expected[k] * expected[k];
    }
    return Math.sqrt(diff / norm);
  }

  /** One gpu_cpu_agreement line for {@code model} (host-array form) against the CPU loss and gradient. */
  private static void printAgreement(String device, String name, String fields, GpuModel model, GpuBlock block,
      double[] params, double cpuLoss, double[] cpuGrad) {
    double[] grad = new double[cpuGrad.length];
    double loss = model.addLossAndGradient(block, params, grad);
    System.out.printf(Locale.ROOT,
        "{\"bench\":\"gpu_cpu_agreement\",\"device\":\"%s\",\"model\":\"%s\",%s,\"loss_rel_diff\":%.3e,"
            + "\"grad_rel_norm_diff\":%.3e}%n",
        device, name, fields, Math.abs(loss - cpuLoss) / Math.abs(cpuLoss), relativeNormDifference(grad, cpuGrad));
  }

  /** The two SGEMMs of the gradient alone, on {@code stream}, timed with CUDA events. */
  private static void timeSgemms(GpuContext ctx, GpuStream stream, String device, GpuBlock block,
      DeviceBuffer params32) {
    Sgemm sgemm = new Sgemm(ctx);
    int n = ROWS;
    int f = FEATURES;
    int c = CLASSES;
    int multiprocessors = ctx.multiprocessorCount();
    SgemmPlan logits = SgemmPlan.single(n, c, f);
    SgemmPlan gradient = SgemmPlan.splitK(c, f, n, multiprocessors);
    try (DeviceBuffer z = ctx.allocate(4L * n * c);
        DeviceBuffer partials = ctx.allocate(4L * gradient.splits() * c * f)) {
      DeviceBuffer w = params32.view(0, 4L * c * f);
      DeviceBuffer bias = params32.view(4L * c * f, 4L * c);
      double flop = 2.0 * n * f * c;
      double ntMs = eventMedian(ctx, stream,
          () -> sgemm.nt(stream, logits, n, c, f, block.features(), f, w, f, z, c, bias));
      print(device, "sgemm", String.format(Locale.ROOT,
          "\"op\":\"nt\",\"m\":%d,\"n\":%d,\"k\":%d,\"splits\":1", n, c, f), ntMs, flop, RUNS);
      double tnMs = eventMedian(ctx, stream,
          () -> sgemm.tn(stream, gradient, c, f, n, z, c, block.features(), f, partials, f));
      print(device, "sgemm", String.format(Locale.ROOT,
          "\"op\":\"tn\",\"m\":%d,\"n\":%d,\"k\":%d,\"splits\":%d", c, f, n, gradient.splits()), tnMs, flop,
          RUNS);
    }
  }

  private static double eventMedian(GpuContext ctx, GpuStream stream, Runnable launch) {
    ctx.makeCurrent();
    CUevent start = new CUevent();
    CUevent end = new CUevent();
    JCudaDriver.cuEventCreate(start, CUevent_flags.CU_EVENT_DEFAULT);
    JCudaDriver.cuEventCreate(end, CUevent_flags.CU_EVENT_DEFAULT);
    double[] ms = new double[RUNS];
    float[] elapsed = {0};
    for (int r = -WARMUPS; r < RUNS; r++) {
      JCudaDriver.cuEventRecord(start, stream.handle());
      launch.run();
      JCudaDriver.cuEventRecord(end, stream.handle());
      JCudaDriver.cuEventSynchronize(end);
      JCudaDriver.cuEventElapsedTime(elapsed, start, end);
      if (r >= 0) {
        ms[r] = elapsed[0];
      }
    }
    JCudaDriver.cuEventDestroy(start);
    JCudaDriver.cuEventDestroy(end);
    return median(ms);
  }

  private static void print(String device, String bench, String fields, double ms, double flop, int runs) {
    System.out.printf(Locale.ROOT,
        "{\"bench\":\"%s\",\"device\":\"%s\",%s,\"median_ms\":%.4f,\"tflops\":%.2f,\"runs\":%d}%n",
        bench, device, fields, ms, flop / ms / 1e9, runs);
  }

  private static double median(double[] values) {
    double[] sorted = values.clone();
    Arrays.sort(sorted);
    int m = sorted.length / 2;
    return sorted.length % 2 == 1 ? sorted[m] : 0.5 * (sorted[m - 1] + sorted[m]);
  }
}
