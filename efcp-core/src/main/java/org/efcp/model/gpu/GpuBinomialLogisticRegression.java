package org.efcp.model.gpu;

import java.util.Arrays;

import org.efcp.cuda.DeviceBuffer;
import org.efcp.cuda.GpuContext;
import org.efcp.cuda.GpuStream;
import org.efcp.cuda.Kernel;
import org.efcp.model.DenseBlock;

/**
 * The loss and gradient of {@link org.efcp.model.BinomialLogisticRegression} on a GPU, as a two-class softmax whose class-0 row is
 * held at zero: with logits (0, z) the softmax gives P(y = 1) = σ(z) and −log p_y is exactly the binomial
 * cross-entropy, so {@link GpuMultinomialLogisticRegression} (C = 2) computes it and this class maps the layouts:
 * θ = (w, b) becomes W = (0; w), b = (0, b), and the gradient of row 1 is the binomial gradient. Same semantics and
 * float32 tolerance as the multinomial GPU model. Not thread-safe.
 */
public final class GpuBinomialLogisticRegression implements GpuModel {
  private static final int THREADS = 256;

  private final int numFeatures;
  private final boolean fitIntercept;
  private final GpuMultinomialLogisticRegression softmax;
  private final GpuContext context;
  private final Kernel axpy;
  /** The two-class model's stream: the layout copies and the gradient mapping queue in order with its work. */
  private final GpuStream stream;
  /** Host form: θ and the gradient in the two-class layout. */
  private double[] paramsTwoClass;
  private double[] gradientTwoClass;
  /** Device form: the same, on the device (params float32 with row 0 and b0 kept zero). */
  private DeviceBuffer paramsDevice;
  private DeviceBuffer gradientDevice;
  private boolean closed;

  /** An FP32 model; see {@link #GpuBinomialLogisticRegression(GpuContext, int, boolean, SgemmPrecision)}. */
  public GpuBinomialLogisticRegression(GpuContext context, int numFeatures, boolean fitIntercept) {
    this(context, numFeatures, fitIntercept, SgemmPrecision.FP32);
  }

  /**
   * @param context the device to run on
   * @param numFeatures F ≥ 1
   * @param fitIntercept whether θ ends with the bias b
   * @param precision of the matrix products ({@link SgemmPrecision#TF32} changes the results)
   */
  public GpuBinomialLogisticRegression(GpuContext context, int numFeatures, boolean fitIntercept,
      SgemmPrecision precision) {
    this.numFeatures = numFeatures;
    this.fitIntercept = fitIntercept;
    this.softmax = new GpuMultinomialLogisticRegression(context, numFeatures, 2, fitIntercept, precision);
    this.context = context;
    this.axpy = context.module("util").kernel("efcp_axpy_f64");
    this.stream = softmax.stream;
  }

  /** d = F + 1 with the intercept, F without. */
  @Override
  public int numParameters() {
    return numFeatures + (fitIntercept ? 1 : 0);
  }

  /** Labels must be 0 or 1. */
  @Override
  public GpuBlock upload(DenseBlock block) {
    checkOpen();
    return softmax.upload(block);
  }

  @Override
  public double addLossAndGradient(GpuBlock block, double[] params, double[] gradAccum) {
    checkOpen();
    int d = numParameters();
    if (params.length != d) {
      throw new IllegalArgumentException("params: expected length " + d + ", got " + params.length);
    }
    if (gradAccum.length != d) {
      throw new IllegalArgumentException("gradAccum: expected length " + d + ", got " + gradAccum.length);
    }
    int f = numFeatures;
    if (paramsTwoClass == null) {
      paramsTwoClass = new double[softmax.numParameters()];
      gradientTwoClass = new double[softmax.numParameters()];
    }
    System.arraycopy(params, 0, paramsTwoClass, f, f);
    if (fitIntercept) {
      paramsTwoClass[2 * f + 1] = params[f];
    }
    Arrays.fill(gradientTwoClass, 0.0);
    double loss = softmax.addLossAndGradient(block, paramsTwoClass, gradientTwoClass);
    for (int j = 0; j < f; j++) {
      gradAccum[j] += gradientTwoClass[f + j];
    }
    if (fitIntercept) {
      gradAccum[f] += gradientTwoClass[2 * f + 1];
    }
    return loss;
  }

  /**
   * The device-resident form: θ as d float32 values (w, then b) and a d-double gradient added to, mapped through
   * device copies into the two-class layout (waits for the device).
   */
  @Override
  public double addLossAndGradient(GpuBlock block, DeviceBuffer params, DeviceBuffer gradAccum) {
    checkOpen();
    int d = numParameters();
    int f = numFeatures;
    if (params.bytes() < 4L * d) {
      throw new IllegalArgumentException("params: must hold d = " + d + " floats, has " + params.bytes() + " bytes");
    }
    if (gradAccum.bytes() < 8L * d) {
      throw new IllegalArgumentException("gradAccum: must hold d = " + d + " doubles, has " + gradAccum.bytes()
          + " bytes");
    }
    int d2 = softmax.numParameters();
    if (gradientDevice == null) {
      // Both or neither: a failed second allocation leaves the first to close() and retries it next time.
      if (paramsDevice == null) {
        paramsDevice = context.allocate(4L * d2);
        paramsDevice.zero(stream);
      }
      gradientDevice = context.allocate(8L * d2);
    }
    paramsDevice.copyFromAsync(params, 0, 4L * f, 4L * f, stream);
    if (fitIntercept) {
      paramsDevice.copyFromAsync(params, 4L * f, 4, 4L * (2 * f + 1), stream);
    }
    gradientDevice.zero(stream);
    double loss = softmax.addLossAndGradient(block, paramsDevice, gradientDevice);
    axpy.launch(stream, blocks(f), 1, THREADS, 1, 0, gradAccum.view(0, 8L * f), gradientDevice.view(8L * f, 8L * f),
        1.0, f);
    if (fitIntercept) {
      axpy.launch(stream, 1, 1, THREADS, 1, 0, gradAccum.view(8L * f, 8), gradientDevice.view(8L * (2 * f + 1), 8),
          1.0, 1);
    }
    stream.synchronize();
    return loss;
  }

  /** Closes the two-class model (which waits for the shared stream), then frees the layout buffers. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      softmax.close();
    } finally {
      if (paramsDevice != null) {
        paramsDevice.close();
      }
      if (gradientDevice != null) {
        gradientDevice.close();
      }
    }
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("model: used after close");
    }
  }

  private static int blocks(int n) {
    return Math.max(1, Math.min(1024, (n + THREADS - 1) / THREADS));
  }
}
