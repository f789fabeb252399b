package org.efcp.ml.train;

import java.io.Serializable;
import java.util.Map;
import java.util.TreeMap;

/**
 * A partial sum of per-partition gradients whose final value does not depend on how it was grouped.
 *
 * <p>Floating-point addition is commutative but not associative, so a sum that Spark's {@code treeAggregate}
 * assembles in task-completion order changes in the last bits from run to run. This class fixes the shape of
 * the sum instead: partition values are added along a canonical binary tree over the partition indices
 * {@code [0, P)}, where a node {@code [lo, hi)} with {@code hi - lo >= 2} has the children {@code [lo, mid)} and
 * {@code [mid, hi)}, {@code mid = (lo + hi) >>> 1}, and a leaf is one partition. A partial holds a set of
 * completed, disjoint nodes; when a node meets its sibling the two are replaced by their parent, repeatedly.
 * Since only the tree shape matters, the root's value is bit-identical for every merge order and grouping
 * (local or cluster, any number of executors, retried tasks).
 *
 * <p>Each node carries the gradient (length {@code d}), the loss, the example weight and the row count of its
 * partitions, all summed along the same tree. Units and normalisation are the caller's: the values are summed
 * as given.
 *
 * <p>Ownership: {@link #leaf} keeps the gradient array it is given, and {@link #merge} takes over the arrays of
 * its argument and adds into them, so merging allocates no arrays. A partial that was passed to {@code merge} (or
 * an array passed to {@code leaf}) must not be used again. That holds in {@code treeAggregate}, which drops
 * both arguments of its functions after the call, as long as the partials are not also kept elsewhere (for
 * example as elements of a cached RDD).
 *
 * <p>Typical use: one {@link #leaf} per partition from {@code mapPartitionsWithIndex}, then
 * {@code treeAggregate(GradientPartial.empty(), GradientPartial::merge, GradientPartial::merge, depth)}.
 */
public final class GradientPartial implements Serializable {

  private static final long serialVersionUID = 1L;

  /** Number of partitions of the sum; 0 while the partial is empty. */
  private int numPartitions;
  /** Gradient length; -1 while the partial is empty. */
  private int dimension = -1;
  /** Completed disjoint nodes keyed by their first partition. */
  private final TreeMap<Integer, Node> nodes = new TreeMap<>();

  private GradientPartial() {}

  /** The partial without any partition: the zero value of {@code treeAggregate} and the identity of merge. */
  public static GradientPartial empty() {
    return new GradientPartial();
  }

  /**
   * The value of one partition.
   *
   * @param partition     the partition index, in {@code [0, numPartitions)}
   * @param numPartitions the number of partitions of the whole sum, at least 1
   * @param gradient      the partition's gradient; kept (not copied) and later added into
   * @param loss          the partition's loss
   * @param weight        the partition's total example weight
   * @param rows          the partition's row count
   */
  public static GradientPartial leaf(int partition, int numPartitions, double[] gradient, double loss,
                                     double weight, long rows) {
    if (gradient == null) {
      throw new IllegalArgumentException("gradient must not be null");
    }
    return leaf(partition, numPartitions, new Node(partition, gradient, null, loss, weight, rows),
        gradient.length);
  }

  /**
   * The value of one partition whose gradient share is float32, the precision shares travel in: kept as float
   * (serialized at 4 bytes per entry) until it meets its sibling, then summed in double.
   *
   * @see #leaf(int, int, double[], double, double, long)
   */
  public static GradientPartial leaf(int partition, int numPartitions, float[] gradient, double loss,
                                     double weight, long rows) {
    if (gradient == null) {
      throw new IllegalArgumentException("gradient must not be null");
    }
    return leaf(partition, numPartitions, new Node(partition, null, gradient, loss, weight, rows),
        gradient.length);
  }

  private static GradientPartial leaf(int partition, int numPartitions, Node node, int dimension) {
    if (numPartitions < 1) {
      throw new IllegalArgumentException("numPartitions must be at least 1, got " + numPartitions);
    }
    if (partition < 0 || partition >= numPartitions) {
      throw new IllegalArgumentException(
          "partition must be in [0, " + numPartitions + "), got " + partition);
    }
    GradientPartial p = new GradientPartial();
    p.numPartitions = numPartitions;
    p.dimension = dimension;
    p.nodes.put(partition, node);
    return p;
  }

  /**
   * Adds {@code other}'s partitions to this partial and returns this partial. {@code other} is given up: its
   * arrays become this partial's. On an error this partial is left unchanged.
   *
   * @throws IllegalArgumentException if the partials have different numbers of partitions or gradient
   *                                  lengths, or share a partition
   */
  public GradientPartial merge(GradientPartial other) {
    if (other.nodes.isEmpty()) {
      return this;
    }
    if (nodes.isEmpty()) {
      numPartitions = other.numPartitions;
      dimension = other.dimension;
    } else {
      checkCompatible(other);
    }
    for (Node n : other.nodes.values()) {
      insert(n);
    }
    return this;
  }

  /** Whether every partition has been merged, so that the root {@code [0, P)} is present. */
  public boolean isComplete() {
    if (nodes.size() != 1) {
      return false;
    }
    Node only = nodes.firstEntry().getValue();
    return only.lo == 0 && only.hi == numPartitions;
  }

  /**
   * The summed gradient: this partial's own array, not a copy.
   *
   * @throws IllegalStateException naming the missing partitions if the partial is not complete
   */
  public double[] gradient() {
    return root().sum();
  }

  /**
   * The summed loss.
   *
   * @throws IllegalStateException naming the missing partitions if the partial is not complete
   */
  public double loss() {
    return root().loss;
  }

  /**
   * The summed example weight.
   *
   * @throws IllegalStateException naming the missing partitions if the partial is not complete
   */
  public double weight() {
    return root().weight;
  }

  /**
   * The summed row count.
   *
   * @throws IllegalStateException naming the missing partitions if the partial is not complete
   */
  public long rows() {
    return root().rows;
  }

  private Node root() {
    if (!isComplete()) {
      throw new IllegalStateException(nodes.isEmpty()
          ? "GradientPartial is empty: no partition has been merged"
          : "GradientPartial is incomplete: missing partitions " + missingPartitions()
              + " of " + numPartitions);
    }
    return nodes.firstEntry().getValue();
  }

  /** The gaps between the present nodes, as "a, b-c, ...". */
  private String missingPartitions() {
    StringBuilder sb = new StringBuilder();
    int next = 0;
    for (Node n : nodes.values()) {
      appendRange(sb, next, n.lo);
      next = n.hi;
    }
    appendRange(sb, next, numPartitions);
    return sb.toString();
  }

  private static void appendRange(StringBuilder sb, int lo, int hi) {
    if (lo >= hi) {
      return;
    }
    if (sb.length() > 0) {
      sb.append(", ");
    }
    sb.append(lo);
    if (hi - lo > 1) {
      sb.append('-').append(hi - 1);
    }
  }

  /** Checks everything merge can reject before anything is changed. */
  private void checkCompatible(GradientPartial other) {
    if (other.numPartitions != numPartitions) {
      throw new IllegalArgumentException("numPartitions differ: " + numPartitions + " and "
          + other.numPartitions);
    }
    if (other.dimension != dimension) {
      throw new IllegalArgumentException("gradient lengths differ: " + dimension + " and " + other.dimension);
    }
    for (Node n : other.nodes.values()) {
      // Canonical nodes either nest or are disjoint, so an overlap is a node at or before n.lo, or inside n.
      Map.Entry<Integer, Node> before = nodes.floorEntry(n.lo);
      Map.Entry<Integer, Node> inside = nodes.ceilingEntry(n.lo);
      Node clash = before != null && before.getValue().hi > n.lo ? before.getValue()
          : inside != null && inside.getKey() < n.hi ? inside.getValue() : null;
      if (clash != null) {
        int lo = Math.max(clash.lo, n.lo);
        int hi = Math.min(clash.hi, n.hi);
        throw new IllegalArgumentException((hi - lo == 1 ? "partition " + lo : "partitions " + lo + "-" + (hi - 1))
            + " merged twice (of " + numPartitions + ")");
      }
    }
  }

  /** Adds a node known to be disjoint from the present ones, combining it with its siblings up the tree. */
  private void insert(Node n) {
    while (true) {
      int lo = 0;
      int hi = numPartitions;
      Node sibling = null;
      // Descend from the root to n's parent; its other child is n's sibling.
      while (hi - lo >= 2) {
        int mid = (lo + hi) >>> 1;
        if (n.lo == lo && n.hi == mid) {
          sibling = nodes.get(mid);
          sibling = sibling != null && sibling.hi == hi ? sibling : null;
          break;
        }
        if (n.lo == mid && n.hi == hi) {
          sibling = nodes.get(lo);
          sibling = sibling != null && sibling.hi == mid ? sibling : null;
          break;
        }
        if (n.lo < mid) {
          hi = mid;
        } else {
          lo = mid;
        }
      }
      if (sibling == null) {
        nodes.put(n.lo, n);
        return;
      }
      nodes.remove(sibling.lo);
      n = sibling.lo < n.lo ? sibling.absorb(n) : n.absorb(sibling);
    }
  }

  /** A completed canonical node {@code [lo, hi)} and its sums. */
  private static final class Node implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int lo;
    private int hi;
    /** The double sum, or null while the node is a float32 leaf. */
    private double[] gradient;
    /** A float32 leaf's share, null once widened. */
    private float[] single;
    private double loss;
    private double weight;
    private long rows;

    /** A leaf: exactly one of {@code gradient} and {@code single} is non-null. */
    Node(int partition, double[] gradient, float[] single, double loss, double weight, long rows) {
      this.lo = partition;
      this.hi = partition + 1;
      this.gradient = gradient;
      this.single = single;
      this.loss = loss;
      this.weight = weight;
      this.rows = rows;
    }

    /** The gradient in double, widening a float32 leaf once. */
    double[] sum() {
      if (gradient == null) {
        gradient = new double[single.length];
        for (int i = 0; i < single.length; i++) {
          gradient[i] = single[i];
        }
        single = null;
      }
      return gradient;
    }

    /** Becomes the parent of this node and its right sibling: this + right, in this node's array. */
    Node absorb(Node right) {
      double[] g = sum();
      if (right.gradient == null) {
        float[] r = right.single;
        for (int i = 0; i < g.length; i++) {
          g[i] += r[i];
        }
      } else {
        double[] r = right.gradient;
        for (int i = 0; i < g.length; i++) {
          g[i] += r[i];
        }
      }
      loss += right.loss;
      weight += right.weight;
      rows += right.rows;
      hi = right.hi;
      return this;
    }
  }
}
