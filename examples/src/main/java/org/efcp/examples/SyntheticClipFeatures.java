package org.efcp.examples;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.SplittableRandom;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Synthetic CLIP-shaped features for a linear probe (the generator of the baselines study, baselines.md §3b).
 *
 * <p>Q is a random dim×rank orthonormal basis. Class c has the mean μ_c = Q Qᵀ g_c + 0.1·h_c with g_c, h_c ~
 * N(0, I_dim). A row has a label y uniform over the classes and the features x = μ_y + noise·ξ, ξ ~ N(0, I_dim),
 * scaled to unit L2 norm. The means depend only on {@link Options} (and its means seed). Row i of a split depends
 * only on (split seed, i), so the data do not depend on the partitioning; they are reproducible on the same JDK
 * (the Gaussians come from {@link SplittableRandom#nextGaussian()}).
 *
 * <p>{@code main} writes a train and a test split as Parquet: {@code --out DIR [--train N] [--test N] [--noise X]
 * [--classes C] [--dim D] [--rank R] [--partitions P]}.
 */
public final class SyntheticClipFeatures {

  /** The recipe's seed for the class means. */
  public static final long MEANS_SEED = 20261128L;
  /** The recipe's seed for the training split. */
  public static final long TRAIN_SEED = 1L;
  /** The recipe's seed for the test split. */
  public static final long TEST_SEED = 2L;
  /** Columns {@code label} (double, the class index 0..C−1) and {@code features} (dense ml.linalg Vector). */
  public static final StructType SCHEMA = new StructType()
      .add("label", DataTypes.DoubleType, false)
      .add("features", SQLDataTypes.VectorType(), false);

  /** Scale of the class means' component outside the rank-r subspace (the recipe's 0.1). */
  private static final double OFF_SUBSPACE_SCALE = 0.1;
  private static final long GOLDEN_GAMMA = 0x9E3779B97F4A7C15L;

  private SyntheticClipFeatures() {
  }

  /**
   * The generator's shape and difficulty. Defaults: dim 768, rank 64, 1000 classes, noise 1.5 (the recipe's harder
   * variant; 0.9 is the first, nearly separable one), means seed {@link #MEANS_SEED}. Immutable; each
   * {@code withX} checks its own value, and {@link SyntheticClipFeatures#generate} checks that rank ≤ dim.
   */
  public static final class Options {
    private final int dim;
    private final int rank;
    private final int numClasses;
    private final double noise;
    private final long meansSeed;

    /** The defaults. */
    public Options() {
      this(768, 64, 1000, 1.5, MEANS_SEED);
    }

    private Options(int dim, int rank, int numClasses, double noise, long meansSeed) {
      this.dim = dim;
      this.rank = rank;
      this.numClasses = numClasses;
      this.noise = noise;
      this.meansSeed = meansSeed;
    }

    /** Feature dimension, ≥ 1. */
    public Options withDim(int dim) {
      if (dim < 1) {
        throw new IllegalArgumentException("dim: must be ≥ 1, got " + dim);
      }
      return new Options(dim, rank, numClasses, noise, meansSeed);
    }

    /** Rank of the subspace holding most of the class means' energy, 1 ≤ rank ≤ dim. */
    public Options withRank(int rank) {
      if (rank < 1) {
        throw new IllegalArgumentException("rank: must be ≥ 1, got " + rank);
      }
      return new Options(dim, rank, numClasses, noise, meansSeed);
    }

    /** Number of classes, ≥ 1. */
    public Options withNumClasses(int numClasses) {
      if (numClasses < 1) {
        throw new IllegalArgumentException("numClasses: must be ≥ 1, got " + numClasses);
      }
      return new Options(dim, rank, numClasses, noise, meansSeed);
    }

    /** Standard deviation of the per-coordinate Gaussian noise added to the class mean (before normalising), ≥ 0. */
    public Options withNoise(double noise) {
      if (!(noise >= 0) || Double.isInfinite(noise)) {
        throw new IllegalArgumentException("noise: must be finite and ≥ 0, got " + noise);
      }
      return new Options(dim, rank, numClasses, noise, meansSeed);
    }

    /** Seed of the basis Q and the class means. */
    public Options withMeansSeed(long meansSeed) {
      return new Options(dim, rank, numClasses, noise, meansSeed);
    }

    public int dim() {
      return dim;
    }

    public int rank() {
      return rank;
    }

    public int numClasses() {
      return numClasses;
    }

    public double noise() {
      return noise;
    }

    public long meansSeed() {
      return meansSeed;
    }

    /** Throws if the fields do not fit together. */
    void check() {
      if (rank > dim) {
        throw new IllegalArgumentException("rank: must be ≤ dim, got rank " + rank + " > dim " + dim);
      }
      if ((long) dim * numClasses > Integer.MAX_VALUE - 8) {
        throw new IllegalArgumentException("numClasses: numClasses × dim = " + (long) dim * numClasses
            + " class-mean entries do not fit in one array");
      }
    }

    @Override
    public String toString() {
      return "dim=" + dim + " rank=" + rank + " classes=" + numClasses + " noise=" + noise + " meansSeed=" + meansSeed;
    }
  }

  /**
   * A lazily generated split. The class means are computed here, on the driver, and broadcast; the broadcast is not
   * destroyed, because the Dataset needs it whenever it is recomputed (Spark's cleaner drops it with the Dataset).
   * Callers that reuse the data should cache it.
   *
   * @param numRows number of rows, ≥ 0; row indices are 0..numRows−1 in order
   * @param numPartitions partitions of the result, ≥ 1; does not change the rows
   * @param splitSeed the split's seed, e.g. {@link #TRAIN_SEED} or {@link #TEST_SEED}
   * @return columns as in {@link #SCHEMA}
   */
  public static Dataset<Row> generate(SparkSession spark, long numRows, int numPartitions, long splitSeed,
      Options opts) {
    if (numRows < 0) {
      throw new IllegalArgumentException("numRows: must be ≥ 0, got " + numRows);
    }
    if (numPartitions < 1) {
      throw new IllegalArgumentException("numPartitions: must be ≥ 1, got " + numPartitions);
    }
    opts.check();
    Broadcast<double[]> means = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(classMeans(opts));
    return spark.range(0, numRows, 1, numPartitions)
        .mapPartitions(new RowGenerator(means, splitSeed, opts.dim, opts.numClasses, opts.noise),
            Encoders.row(SCHEMA));
  }

  /** The class means, row-major numClasses × dim: mean c is {@code [c·dim, (c+1)·dim)}. */
  static double[] classMeans(Options opts) {
    int dim = opts.dim;
    int rank = opts.rank;
    SplittableRandom rng = new SplittableRandom(opts.meansSeed);
    double[] q = orthonormalColumns(rng, dim, rank);
    double[] means = new double[opts.numClasses * dim];
    double[] g = new double[dim];
    double[] coef = new double[rank];
    for (int c = 0; c < opts.numClasses; c++) {
      for (int j = 0; j < dim; j++) {
        g[j] = rng.nextGaussian();
      }
      for (int k = 0; k < rank; k++) {
        coef[k] = dot(q, k * dim, g, 0, dim);
      }
      int off = c * dim;
      for (int k = 0; k < rank; k++) {
        for (int j = 0; j < dim; j++) {
          means[off + j] += q[k * dim + j] * coef[k];
        }
      }
      for (int j = 0; j < dim; j++) {
        means[off + j] += OFF_SUBSPACE_SCALE * rng.nextGaussian();
      }
    }
    return means;
  }

  /** A dim×rank matrix with orthonormal columns (column-major), from Gaussian columns by Gram-Schmidt run twice. */
  private static double[] orthonormalColumns(SplittableRandom rng, int dim, int rank) {
    double[] q = new double[dim * rank];
    for (int i = 0; i < q.length; i++) {
      q[i] = rng.nextGaussian();
    }
    for (int k = 0; k < rank; k++) {
      int ok = k * dim;
      // A second pass removes what rounding left of the earlier directions.
      for (int pass = 0; pass < 2; pass++) {
        for (int p = 0; p < k; p++) {
          double proj = dot(q, p * dim, q, ok, dim);
          for (int j = 0; j < dim; j++) {
            q[ok + j] -= proj * q[p * dim + j];
          }
        }
      }
      double inv = 1.0 / Math.sqrt(dot(q, ok, q, ok, dim));
      for (int j = 0; j < dim; j++) {
        q[ok + j] *= inv;
      }
    }
    return q;
  }

  private static double dot(double[] a, int aOff, double[] b, int bOff, int n) {
    double s = 0;
    for (int j = 0; j < n; j++) {
      s += a[aOff + j] * b[bOff + j];
    }
    return s;
  }

  /** The seed of row {@code index}: output {@code index} of a splitmix64 stream started from the split's seed. */
  static long rowSeed(long splitSeed, long index) {
    return mix64(mix64(splitSeed) + (index + 1) * GOLDEN_GAMMA);
  }

  private static long mix64(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** Turns row indices into rows; holds only the broadcast and primitives, so it ships small. */
  private static final class RowGenerator implements MapPartitionsFunction<Long, Row> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<double[]> means;
    private final long splitSeed;
    private final int dim;
    private final int numClasses;
    private final double noise;

    RowGenerator(Broadcast<double[]> means, long splitSeed, int dim, int numClasses, double noise) {
      this.means = means;
      this.splitSeed = splitSeed;
      this.dim = dim;
      this.numClasses = numClasses;
      this.noise = noise;
    }

    @Override
    public Iterator<Row> call(Iterator<Long> indices) {
      double[] mu = means.value();
      return new Iterator<>() {
        @Override
        public boolean hasNext() {
          return indices.hasNext();
        }

        @Override
        public Row next() {
          return row(mu, indices.next());
        }
      };
    }

    private Row row(double[] mu, long index) {
      SplittableRandom rng = new SplittableRandom(rowSeed(splitSeed, index));
      int label = rng.nextInt(numClasses);
      int off = label * dim;
      double[] x = new double[dim];
      double sq = 0;
      for (int j = 0; j < dim; j++) {
        x[j] = mu[off + j] + noise * rng.nextGaussian();
        sq += x[j] * x[j];
      }
      double inv = 1.0 / Math.sqrt(sq);
      for (int j = 0; j < dim; j++) {
        x[j] *= inv;
      }
      return RowFactory.create((double) label, Vectors.dense(x));
    }
  }

  /** Writes {@code DIR/train} and {@code DIR/test} as Parquet; bad arguments print one error line and exit 2. */
  public static void main(String[] args) {
    Map<String, String> defaults = new LinkedHashMap<>();
    defaults.put("--out", null);
    defaults.put("--train", "100000");
    defaults.put("--test", "20000");
    defaults.put("--noise", "1.5");
    defaults.put("--classes", "1000");
    defaults.put("--dim", "768");
    defaults.put("--rank", "64");
    defaults.put("--partitions", "2");
    String out;
    long trainRows;
    long testRows;
    int partitions;
    Options opts;
    try {
      CommandLine cl = CommandLine.parse(args, defaults);
      out = cl.string("--out");
      trainRows = cl.positiveLong("--train");
      testRows = cl.positiveLong("--test");
      partitions = cl.positiveInt("--partitions");
      opts = new Options()
          .withDim(cl.positiveInt("--dim"))
          .withRank(cl.positiveInt("--rank"))
          .withNumClasses(cl.positiveInt("--classes"))
          .withNoise(cl.nonNegativeDouble("--noise"));
      opts.check();
    } catch (IllegalArgumentException e) {
      System.err.println("SyntheticClipFeatures: " + e.getMessage());
      System.exit(2);
      return;
    }
    SparkSession spark = LoopbackSession.start("SyntheticClipFeatures", partitions);
    try {
      generate(spark, trainRows, partitions, TRAIN_SEED, opts).write().parquet(out + "/train");
      generate(spark, testRows, partitions, TEST_SEED, opts).write().parquet(out + "/test");
    } finally {
      spark.stop();
    }
    System.out.println("wrote " + trainRows + " train / " + testRows + " test rows (" + opts + ") to " + out);
  }
}
