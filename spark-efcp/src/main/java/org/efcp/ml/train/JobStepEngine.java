package org.efcp.ml.train;

import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;

/**
 * One Spark job per step, as MLlib's {@code RDDLossFunction} does it: broadcast θ, let every partition compute its
 * share, sum the shares with {@code treeAggregate} along the fixed tree of {@link GradientPartial}, destroy the
 * broadcast. Costs a job's scheduling and a broadcast per step; needs no free slots and survives anything Spark's
 * task retries survive.
 */
final class JobStepEngine implements StepEngine {
  private final JavaRDD<TrainingBlock> blocks;
  private final JavaSparkContext jsc;
  private final PartitionGradient kernel;
  private final Broadcast<double[]> scale;
  private final int depth;

  JobStepEngine(JavaRDD<TrainingBlock> blocks, PartitionGradient kernel, double[] featureScale, int depth) {
    this.blocks = blocks;
    this.jsc = JavaSparkContext.fromSparkContext(blocks.context());
    this.kernel = kernel;
    this.scale = featureScale == null ? null : jsc.broadcast(featureScale);
    this.depth = depth;
  }

  @Override
  public String name() {
    return "jobs";
  }

  @Override
  public StepGradient gradient(float[] theta, int epoch, long step, long globalStep) {
    long t0 = System.nanoTime();
    Broadcast<float[]> weights = jsc.broadcast(theta);
    long t1 = System.nanoTime();
    Broadcast<double[]> scaleBc = scale;
    PartitionGradient k = kernel;
    int numPartitions = blocks.getNumPartitions();
    try {
      GradientPartial sum = blocks.mapPartitionsWithIndex((p, it) -> {
        int d = k.dimension();
        List<TrainingBlock> list = new java.util.ArrayList<>();
        it.forEachRemaining(list::add);
        PartitionShare share = k.compute(list, weights.value(), new double[d],
            scaleBc == null ? null : scaleBc.value(), epoch, step, new double[d]);
        return List.of(share.leaf(p, numPartitions)).iterator();
      }, false).treeAggregate(GradientPartial.empty(), GradientPartial::merge, GradientPartial::merge, depth);
      return new StepGradient(sum, (t1 - t0) * 1e-6, (System.nanoTime() - t1) * 1e-6);
    } finally {
      weights.destroy();
    }
  }

  @Override
  public void close() {
    if (scale != null) {
      scale.destroy();
    }
  }
}
