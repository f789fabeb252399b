package org.efcp.optim;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.InvalidClassException;
import java.io.ObjectInputFilter;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.Serial;
import java.io.Serializable;
import java.util.Arrays;
import java.util.Objects;

import org.efcp.cuda.GpuContext;
import org.efcp.optim.gpu.GpuDirectionPipeline;
import org.efcp.optim.gpu.GpuPipelines;

/**
 * The EFCP optimizer: a {@link DirectionPipeline} (error feedback ∘ compression → preconditioning) composed with
 * clipping, momentum, a learning-rate schedule and decoupled weight decay. Built from an immutable
 * {@link OptimizerConfig}; the mutable state (error buffer, compressor and window state, momentum buffer,
 * step count) lives here. Step t (counted from 0) on parameters θ with gradient g:
 * <pre>
 *   u   = pipeline.direction(g)                        EF∘compress → precondition
 *   if c &gt; 0 and ‖u‖ &gt; c:  u ← u · c/‖u‖              c = clipNorm
 *   v   = μ v + u        (v = u when μ = 0)              μ = momentum, no (1 − μ) factor
 *   η_t = η_0 · schedule.factor(t)
 *   θ   ← (1 − γ) θ − η_t v                             γ = weightDecay, no η factor on γ
 * </pre>
 * <p>Conventions, from the paper and the authors' code (algorithms doc §2.7, §10):
 * <ul>
 *   <li>Clipping acts on the <em>preconditioned</em> direction u, before momentum, as the paper's ASDL runs do
 *       ({@code clip_grad_norm_} on the u the grad-maker wrote, then SGD with momentum). Clipping the raw g
 *       instead would not bound the step: with small damping M-FAC scales g up by 10³–10⁴.</li>
 *   <li>Momentum is EFCP M-FAC's heavy ball {@code v = μ v + u}.</li>
 *   <li>Weight decay is decoupled and not scaled by η: {@code θ ← (1 − γ) θ − η v}.</li>
 * </ul>
 * <p>Steps allocate no d-sized arrays: u is a scratch buffer kept across steps ({@code transient}, re-created
 * after deserialisation), v a persistent buffer. Not thread-safe.
 *
 * <p>Checkpoints: {@link #save} / {@link #load} write and read the whole state with Java serialisation behind a
 * magic header and format version, so a restored optimizer continues bit-identically.
 *
 * <p>GPU: {@link #onGpu} keeps the direction pipeline's state (error buffer, window, m×m state) on a GPU
 * ({@link GpuPipelines}); clipping, momentum and the θ update stay on the host. Such an optimizer must be
 * {@link #close() closed} to free the device memory. {@link #toHost()} and {@link #toGpu} move the state between host
 * and GPU (up to rounding: the m×m state is rebuilt from K); a GPU optimizer's checkpoint is its host copy's.
 */
public final class EfcpOptimizer implements Serializable, AutoCloseable {
  private static final long serialVersionUID = 1L;

  private static final byte[] MAGIC = {'E', 'F', 'C', 'P', 'O', 'P', 'T', '\n'};
  private static final int FORMAT_VERSION = 1;
  /**
   * A checkpoint is data: only our classes, java.lang and java.util classes, serialised lambdas (schedules) and
   * primitive arrays may appear in it; any other class is refused before it is instantiated.
   */
  private static final ObjectInputFilter CHECKPOINT_FILTER = ObjectInputFilter.Config.createFilter(
      "org.efcp.**;java.lang.*;java.lang.invoke.SerializedLambda;java.util.*;!*");

  private final OptimizerConfig config;
  /** The CPU pipeline; null on the GPU. */
  private final DirectionPipeline pipeline;
  /** The GPU pipeline and its device; null on the CPU. */
  private transient GpuDirectionPipeline gpuPipeline;
  private transient GpuContext gpuContext;
  /** The momentum buffer v (null when μ = 0: then v is u). */
  private final double[] velocity;
  private long stepCount;

  private transient double[] direction;
  private transient double[] metricsScratch;

  /** A fresh optimizer (step 0, empty window, zero error and momentum buffers) for {@code config}. */
  public EfcpOptimizer(OptimizerConfig config) {
    this(config, null);
  }

  private EfcpOptimizer(OptimizerConfig config, GpuContext context) {
    this.config = Objects.requireNonNull(config, "config");
    this.pipeline = context == null ? DirectionPipeline.create(config) : null;
    if (context != null) {
      this.gpuContext = context;
      this.gpuPipeline = newGpuPipeline(context, config);
    }
    this.velocity = config.momentum() > 0 ? new double[config.dimension()] : null;
  }

  /**
   * A fresh optimizer whose direction pipeline lives on {@code context}'s GPU; the same steps as the CPU optimizer
   * up to rounding (u within a relative 1e-5, identical Top-k selections).
   *
   * @throws IllegalArgumentException if the sizes do not fit the GPU kernels ({@link GpuPipelines#obstacle})
   */
  public static EfcpOptimizer onGpu(OptimizerConfig config, GpuContext context) {
    Objects.requireNonNull(context, "context");
    String obstacle = GpuPipelines.obstacle(config);
    if (obstacle != null) {
      throw new IllegalArgumentException("method: " + config.method() + " cannot run on the GPU: " + obstacle);
    }
    return new EfcpOptimizer(config, context);
  }

  /** A GPU pipeline with its host-API staging in place (steps go through the host API), or nothing held. */
  private static GpuDirectionPipeline newGpuPipeline(GpuContext context, OptimizerConfig config) {
    GpuDirectionPipeline p = GpuPipelines.create(context, config);
    try {
      p.reserveHostStaging();
    } catch (RuntimeException | Error e) {
      p.close();
      throw e;
    }
    return p;
  }

  /**
   * This optimizer's state on {@code context}'s GPU, as a new optimizer (this one is unchanged): the same step count,
   * momentum buffer and pipeline state ({@link DirectionPipeline#exportState}); the m×m state is rebuilt from K, so
   * steps continue as this optimizer's would up to rounding. A GPU optimizer moves to another GPU the same way.
   *
   * @throws IllegalArgumentException if the sizes do not fit the GPU kernels ({@link GpuPipelines#obstacle})
   * @throws IllegalStateException if this GPU optimizer was closed
   */
  public EfcpOptimizer toGpu(GpuContext context) {
    PipelineState state = exportState();
    EfcpOptimizer gpu = onGpu(config, context);
    try {
      gpu.gpuPipeline.importState(state);
    } catch (RuntimeException | Error e) {
      gpu.close();
      throw e;
    }
    gpu.copyStepState(this);
    return gpu;
  }

  /**
   * This optimizer's state on the host, as a new CPU optimizer (this one is unchanged; on the CPU, a copy): the same
   * step count, momentum buffer and pipeline state, continuing as this one would up to rounding.
   *
   * @throws IllegalStateException if this GPU optimizer was closed
   */
  public EfcpOptimizer toHost() {
    EfcpOptimizer host = new EfcpOptimizer(config);
    host.pipeline.importState(exportState());
    host.copyStepState(this);
    return host;
  }

  private PipelineState exportState() {
    if (gpuContext != null) {
      checkOpen();
      return gpuPipeline.exportState();
    }
    return pipeline.exportState();
  }

  private void copyStepState(EfcpOptimizer from) {
    if (velocity != null) {
      System.arraycopy(from.velocity, 0, velocity, 0, velocity.length);
    }
    stepCount = from.stepCount;
  }

  /** One step without metrics; see {@link #step(double[], double[], boolean)}. */
  public StepResult step(double[] theta, double[] g) {
    return step(theta, g, false);
  }

  /**
   * One step: updates {@code theta} in place from the gradient {@code g} (not modified). Bad input is rejected
   * before any state changes.
   *
   * @param theta the parameters θ, length d
   * @param g the gradient of the loss at θ, length d, every entry finite
   * @param withMetrics whether to compute {@link PreconditioningMetrics} (O(d) extra work)
   * @throws IllegalArgumentException if {@code theta} or {@code g} has the wrong length, or g a non-finite entry
   * @throws IllegalStateException if this GPU optimizer was closed
   */
  public StepResult step(double[] theta, double[] g, boolean withMetrics) {
    int d = config.dimension();
    if (theta.length != d) {
      throw new IllegalArgumentException("theta: expected d = " + d + ", got length " + theta.length);
    }
    if (direction == null) {
      direction = new double[d];
    }
    double[] u = direction;
    if (gpuPipeline != null) {
      gpuPipeline.direction(g, u);
    } else if (pipeline != null) {
      pipeline.direction(g, u);
    } else {
      throw new IllegalStateException("optimizer: closed");
    }

    double gradientNorm = norm(g);
    double directionNorm = norm(u);
    double clip = config.clipNorm();
    boolean clipped = clip > 0 && directionNorm > clip;
    if (clipped) {
      double scale = clip / directionNorm;
      for (int i = 0; i < d; i++) {
        u[i] *= scale;
      }
      directionNorm = clip;
    }

    double[] v = u;
    if (velocity != null) {
      double mu = config.momentum();
      for (int i = 0; i < d; i++) {
        velocity[i] = mu * velocity[i] + u[i];
      }
      v = velocity;
    }

    long t = stepCount;
    double lr = config.learningRate() * config.schedule().factor(t);
    double keep = 1.0 - config.weightDecay();
    for (int i = 0; i < d; i++) {
      theta[i] = keep * theta[i] - lr * v[i];
    }
    stepCount = t + 1;

    PreconditioningMetrics metrics = null;
    if (withMetrics) {
      if (metricsScratch == null) {
        metricsScratch = new double[d];
      }
      metrics = PreconditioningMetrics.compute(g, v, metricsScratch);
    }
    return new StepResult(t, lr, gradientNorm, directionNorm, clipped, metrics);
  }

  /** Number of steps taken since construction or {@link #reset()}. */
  public long stepCount() {
    return stepCount;
  }

  /** A copy of the momentum buffer v, or null when μ = 0 (then v is u and nothing is kept). */
  public double[] momentumBuffer() {
    return velocity == null ? null : velocity.clone();
  }

  public OptimizerConfig config() {
    return config;
  }

  /** The CPU direction pipeline, or null when this optimizer runs on the GPU. */
  public DirectionPipeline pipeline() {
    return pipeline;
  }

  /** "gpu" when the direction pipeline lives on a GPU, else "cpu". */
  public String device() {
    return gpuContext != null ? "gpu" : "cpu";
  }

  /**
   * Persistent state bytes: the pipeline's (error buffer, compressor, preconditioner; device bytes on the GPU) plus
   * the momentum buffer.
   */
  public long memoryBytes() {
    long direction = gpuPipeline != null ? gpuPipeline.memoryBytes() : pipeline == null ? 0 : pipeline.memoryBytes();
    return direction + (velocity == null ? 0 : 8L * velocity.length);
  }

  /** Forgets all state (window, error and momentum buffers, step count), as if freshly constructed. */
  public void reset() {
    if (gpuContext != null) {
      checkOpen();
      gpuPipeline.close();
      gpuPipeline = null;  // closed, should the new pipeline not fit
      gpuPipeline = newGpuPipeline(gpuContext, config);
    } else {
      pipeline.reset();
    }
    if (velocity != null) {
      Arrays.fill(velocity, 0.0);
    }
    stepCount = 0;
  }

  /**
   * Writes a checkpoint of the whole state to {@code out} (flushed, not closed): a magic header, the format
   * version and this object in Java serialisation. A GPU optimizer writes its {@link #toHost()} copy, so every
   * checkpoint loads as a CPU optimizer ({@link #toGpu} moves it back).
   *
   * @throws IllegalStateException if this GPU optimizer was closed
   */
  public void save(OutputStream out) throws IOException {
    DataOutputStream header = new DataOutputStream(out);
    header.write(MAGIC);
    header.writeInt(FORMAT_VERSION);
    header.flush();
    ObjectOutputStream oos = new ObjectOutputStream(out);
    oos.writeObject(this);
    oos.flush();
  }

  /**
   * Java serialisation writes a GPU optimizer as its {@link #toHost()} copy (the state is in device memory), so it
   * reads back as a CPU optimizer; a CPU optimizer writes itself.
   *
   * @throws IllegalStateException if this GPU optimizer was closed
   */
  @Serial
  private Object writeReplace() {
    return gpuContext != null ? toHost() : this;
  }

  /**
   * Reads a checkpoint written by {@link #save}; the stream is not closed.
   *
   * @throws IOException if the stream is not an EFCP optimizer checkpoint, has another format version, was
   *     written by incompatible classes, or is truncated
   */
  public static EfcpOptimizer load(InputStream in) throws IOException {
    DataInputStream header = new DataInputStream(in);
    byte[] magic = new byte[MAGIC.length];
    try {
      header.readFully(magic);
    } catch (EOFException e) {
      throw new IOException("checkpoint: not an EFCP optimizer checkpoint (stream shorter than the header)", e);
    }
    if (!Arrays.equals(magic, MAGIC)) {
      throw new IOException("checkpoint: not an EFCP optimizer checkpoint (bad magic header)");
    }
    int version;
    try {
      version = header.readInt();
    } catch (EOFException e) {
      throw new IOException("checkpoint: truncated after the header", e);
    }
    if (version != FORMAT_VERSION) {
      throw new IOException("checkpoint: unsupported format version " + version + " (this build reads "
          + FORMAT_VERSION + ")");
    }
    Object o = readObject(in);
    if (!(o instanceof EfcpOptimizer optimizer)) {
      throw new IOException("checkpoint: holds a " + (o == null ? "null" : o.getClass().getName())
          + ", not an EfcpOptimizer");
    }
    return optimizer;
  }

  /** Frees the GPU pipeline's device memory (waiting for its queued work); nothing to do on the CPU. Idempotent. */
  @Override
  public void close() {
    if (gpuPipeline != null) {
      gpuPipeline.close();
      gpuPipeline = null;
    }
  }

  private void checkOpen() {
    if (gpuContext != null && gpuPipeline == null) {
      throw new IllegalStateException("optimizer: closed");
    }
  }

  private static Object readObject(InputStream in) throws IOException {
    try {
      ObjectInputStream ois = new ObjectInputStream(in);
      ois.setObjectInputFilter(CHECKPOINT_FILTER);
      return ois.readObject();
    } catch (InvalidClassException e) {
      // A serialVersionUID mismatch, or a class the checkpoint filter refuses.
      throw new IOException("checkpoint: incompatible or disallowed class (" + e.getMessage() + ")", e);
    } catch (ClassNotFoundException e) {
      throw new IOException("checkpoint: refers to an unknown class " + e.getMessage(), e);
    } catch (EOFException e) {
      throw new IOException("checkpoint: truncated", e);
    } catch (IOException | RuntimeException e) {
      throw new IOException("checkpoint: corrupt (" + e + ")", e);
    }
  }

  private static double norm(double[] x) {
    double s = 0;
    for (double xi : x) {
      s += xi * xi;
    }
    return Math.sqrt(s);
  }
}
