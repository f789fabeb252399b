package org.efcp.ml.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.function.UnaryOperator;

import org.apache.spark.SparkConf;
import org.apache.spark.serializer.JavaSerializer;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import scala.reflect.ClassTag$;

/**
 * The merged sum equals, bit for bit, a canonical-tree sum computed here independently, for every merge order
 * and grouping (random, and the strided grouping of Spark's treeAggregate), across serialisation mid-merge.
 */
class GradientPartialTest {

  private static final int D = 7;
  private static final int TRIALS = 300;

  /** Per-partition values: gradient entries, then loss, weight, rows. */
  private record Values(double[][] gradient, double[] loss, double[] weight, long[] rows) {

    int partitions() {
      return loss.length;
    }

    GradientPartial leaf(int p) {
      return GradientPartial.leaf(p, partitions(), gradient[p].clone(), loss[p], weight[p], rows[p]);
    }

    List<GradientPartial> leaves() {
      List<GradientPartial> leaves = new ArrayList<>();
      for (int p = 0; p < partitions(); p++) {
        leaves.add(leaf(p));
      }
      return leaves;
    }
  }

  /** Values whose sums depend on the association: huge terms that cancel, tiny ones, mixed signs. */
  private static Values values(int partitions, long seed) {
    Random rnd = new Random(seed);
    double[] fixed = {1, 1e16, -1e16, 3.3, 1e-8, -2.5e15, 0.1, 7e12, -1, 0.3};
    double[][] g = new double[partitions][D];
    double[] loss = new double[partitions];
    double[] weight = new double[partitions];
    long[] rows = new long[partitions];
    for (int p = 0; p < partitions; p++) {
      g[p][0] = fixed[p % fixed.length];
      for (int j = 1; j < D; j++) {
        g[p][j] = randomMagnitude(rnd);
      }
      loss[p] = randomMagnitude(rnd);
      weight[p] = Math.abs(randomMagnitude(rnd));
      rows[p] = rnd.nextInt(1 << 30);
    }
    return new Values(g, loss, weight, rows);
  }

  /** ±10^u with u uniform in [-8, 16]. */
  private static double randomMagnitude(Random rnd) {
    double v = Math.pow(10, -8 + 24 * rnd.nextDouble());
    return rnd.nextBoolean() ? v : -v;
  }

  /** The canonical tree sum of one quantity, straight from the definition. */
  private static double treeSum(double[] v, int lo, int hi) {
    if (hi - lo == 1) {
      return v[lo];
    }
    int mid = (lo + hi) >>> 1;
    return treeSum(v, lo, mid) + treeSum(v, mid, hi);
  }

  private static double[] column(double[][] g, int j) {
    double[] c = new double[g.length];
    for (int p = 0; p < g.length; p++) {
      c[p] = g[p][j];
    }
    return c;
  }

  private static void assertCanonical(Values v, GradientPartial sum) {
    int n = v.partitions();
    assertTrue(sum.isComplete());
    double[] gradient = sum.gradient();
    assertEquals(D, gradient.length);
    for (int j = 0; j < D; j++) {
      assertBits(treeSum(column(v.gradient(), j), 0, n), gradient[j], "gradient[" + j + "]");
    }
    assertBits(treeSum(v.loss(), 0, n), sum.loss(), "loss");
    assertBits(treeSum(v.weight(), 0, n), sum.weight(), "weight");
    long rows = 0;
    for (long r : v.rows()) {
      rows += r;
    }
    assertEquals(rows, sum.rows(), "rows");
  }

  private static void assertBits(double expected, double actual, String what) {
    assertEquals(Double.doubleToLongBits(expected), Double.doubleToLongBits(actual),
        what + ": expected " + expected + ", got " + actual);
  }

  private static GradientPartial fold(List<GradientPartial> parts) {
    GradientPartial acc = GradientPartial.empty();
    for (GradientPartial p : parts) {
      acc = acc.merge(p);
    }
    return acc;
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 5, 8, 13})
  void foldingLeavesInAnyOrderGivesTheCanonicalSumBitForBit(int partitions) {
    Random rnd = new Random(partitions);
    for (int t = 0; t < TRIALS; t++) {
      Values v = values(partitions, t);
      List<GradientPartial> leaves = v.leaves();
      Collections.shuffle(leaves, rnd);
      assertCanonical(v, fold(leaves));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 5, 8, 13})
  void mergingRandomPairsOfPartialsGivesTheCanonicalSumBitForBit(int partitions) {
    Random rnd = new Random(100 + partitions);
    for (int t = 0; t < TRIALS; t++) {
      Values v = values(partitions, t);
      List<GradientPartial> pool = v.leaves();
      if (rnd.nextBoolean()) {
        pool.add(rnd.nextInt(pool.size() + 1), GradientPartial.empty());
      }
      while (pool.size() > 1) {
        GradientPartial a = pool.remove(rnd.nextInt(pool.size()));
        GradientPartial b = pool.remove(rnd.nextInt(pool.size()));
        pool.add(a.merge(b));
      }
      assertCanonical(v, pool.get(0));
    }
  }

  /** Spark's treeAggregate: partition i goes to group i % g, groups fold from zero, then the groups fold. */
  @ParameterizedTest
  @ValueSource(ints = {1, 2, 3, 5, 8, 13})
  void stridedGroupingAsInTreeAggregateGivesTheCanonicalSumBitForBit(int partitions) {
    Random rnd = new Random(200 + partitions);
    for (int t = 0; t < TRIALS; t++) {
      Values v = values(partitions, t);
      int groups = 1 + rnd.nextInt(partitions);
      List<List<GradientPartial>> members = new ArrayList<>();
      for (int k = 0; k < groups; k++) {
        members.add(new ArrayList<>());
      }
      for (int p = 0; p < partitions; p++) {
        members.get(p % groups).add(v.leaf(p));
      }
      List<GradientPartial> groupSums = new ArrayList<>();
      for (List<GradientPartial> m : members) {
        Collections.shuffle(m, rnd);
        groupSums.add(fold(m));
      }
      Collections.shuffle(groupSums, rnd);
      assertCanonical(v, fold(groupSums));
    }
  }

  @Test
  void theTestValuesExposeTheAssociationOfTheSum() {
    // Otherwise the tests above could not tell the canonical tree from a left-to-right fold.
    for (int partitions : new int[] {3, 5, 8, 13}) {
      double[] first = column(values(partitions, 0).gradient(), 0);
      double leftToRight = 0;
      for (double x : first) {
        leftToRight += x;
      }
      assertTrue(Double.doubleToLongBits(leftToRight) != Double.doubleToLongBits(treeSum(first, 0, partitions)),
          "P=" + partitions + ": " + leftToRight);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"java-stream", "spark-java", "spark-kryo"})
  void partialsSurviveSerialisationMidMergeAndContinueBitIdentically(String serializer) {
    UnaryOperator<GradientPartial> roundTrip = roundTrip(serializer);
    Random rnd = new Random(7);
    for (int partitions : new int[] {2, 5, 13}) {
      for (int t = 0; t < 20; t++) {
        Values v = values(partitions, t);
        List<GradientPartial> pool = v.leaves();
        while (pool.size() > 1) {
          GradientPartial a = pool.remove(rnd.nextInt(pool.size()));
          GradientPartial b = pool.remove(rnd.nextInt(pool.size()));
          pool.add(roundTrip.apply(a.merge(b)));
        }
        assertCanonical(v, pool.get(0));
      }
    }
    GradientPartial empty = roundTrip.apply(GradientPartial.empty());
    Values v = values(3, 1);
    assertCanonical(v, empty.merge(fold(v.leaves())));
  }

  /** A serialise-deserialise function: plain Java streams, or Spark's Java or Kryo serializer. */
  private static UnaryOperator<GradientPartial> roundTrip(String serializer) {
    if (serializer.equals("java-stream")) {
      return p -> {
        try {
          ByteArrayOutputStream bytes = new ByteArrayOutputStream();
          try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
            out.writeObject(p);
          }
          try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
            return (GradientPartial) in.readObject();
          }
        } catch (IOException | ClassNotFoundException e) {
          throw new AssertionError(e);
        }
      };
    }
    SparkConf conf = new SparkConf(false);
    SerializerInstance ser = serializer.equals("spark-java")
        ? new JavaSerializer(conf).newInstance()
        : new KryoSerializer(conf.set("spark.kryo.registrationRequired", "false")).newInstance();
    var tag = ClassTag$.MODULE$.<GradientPartial>apply(GradientPartial.class);
    return p -> ser.deserialize(ser.serialize(p, tag), tag);
  }

  @Test
  void mergingWithEmptyIsIdentityOnBothSides() {
    Values v = values(5, 3);
    GradientPartial whole = fold(v.leaves());
    assertSame(whole, whole.merge(GradientPartial.empty()));
    assertCanonical(v, whole);
    assertCanonical(v, GradientPartial.empty().merge(fold(v.leaves())));

    GradientPartial part = v.leaf(2).merge(GradientPartial.empty());
    GradientPartial rest = GradientPartial.empty().merge(v.leaf(0)).merge(v.leaf(1)).merge(v.leaf(3))
        .merge(v.leaf(4));
    assertCanonical(v, GradientPartial.empty().merge(part).merge(GradientPartial.empty()).merge(rest));
    assertFalse(GradientPartial.empty().merge(GradientPartial.empty()).isComplete());
  }

  @Test
  void aSinglePartitionIsCompleteAtOnce() {
    GradientPartial p = GradientPartial.leaf(0, 1, new double[] {1.5, -2}, 0.25, 3, 4);
    assertTrue(p.isComplete());
    assertEquals(1.5, p.gradient()[0]);
    assertEquals(0.25, p.loss());
    assertEquals(3.0, p.weight());
    assertEquals(4L, p.rows());
  }

  @Test
  void anIncompleteSumNamesTheMissingPartitions() {
    Values v = values(8, 4);
    GradientPartial p = fold(List.of(v.leaf(1), v.leaf(2), v.leaf(6)));
    assertFalse(p.isComplete());
    IllegalStateException e = assertThrows(IllegalStateException.class, p::gradient);
    assertTrue(e.getMessage().contains("missing partitions 0, 3-5, 7 of 8"), e.getMessage());
    assertThrows(IllegalStateException.class, p::loss);
    assertThrows(IllegalStateException.class, p::weight);
    assertThrows(IllegalStateException.class, p::rows);
    IllegalStateException empty = assertThrows(IllegalStateException.class, GradientPartial.empty()::rows);
    assertTrue(empty.getMessage().contains("empty"), empty.getMessage());
  }

  @Test
  void aPartitionMergedTwiceIsRejectedAndLeavesThePartialUnchanged() {
    Values v = values(5, 5);
    GradientPartial first = fold(List.of(v.leaf(0), v.leaf(1)));
    IllegalArgumentException leafTwice = assertThrows(IllegalArgumentException.class,
        () -> first.merge(v.leaf(1)));
    assertTrue(leafTwice.getMessage().startsWith("partition 1 merged twice"), leafTwice.getMessage());
    // A node containing one already present (and its sibling [0,2) for the other side).
    GradientPartial second = fold(List.of(v.leaf(3), v.leaf(4)));
    GradientPartial third = fold(List.of(v.leaf(2), v.leaf(3), v.leaf(4)));
    IllegalArgumentException nested = assertThrows(IllegalArgumentException.class, () -> second.merge(third));
    assertTrue(nested.getMessage().startsWith("partitions 3-4 merged twice"), nested.getMessage());
    assertThrows(IllegalArgumentException.class, () -> first.merge(first));

    assertCanonical(v, first.merge(fold(List.of(v.leaf(2), v.leaf(3), v.leaf(4)))));
  }

  @Test
  void partialsOfDifferentShapesAreRejected() {
    GradientPartial a = GradientPartial.leaf(0, 4, new double[3], 0, 0, 0);
    IllegalArgumentException partitions = assertThrows(IllegalArgumentException.class,
        () -> a.merge(GradientPartial.leaf(1, 5, new double[3], 0, 0, 0)));
    assertTrue(partitions.getMessage().startsWith("numPartitions differ: 4 and 5"), partitions.getMessage());
    IllegalArgumentException length = assertThrows(IllegalArgumentException.class,
        () -> a.merge(GradientPartial.leaf(1, 4, new double[2], 0, 0, 0)));
    assertTrue(length.getMessage().startsWith("gradient lengths differ: 3 and 2"), length.getMessage());
  }

  @Test
  void leavesOutsideThePartitionRangeAreRejected() {
    IllegalArgumentException high = assertThrows(IllegalArgumentException.class,
        () -> GradientPartial.leaf(4, 4, new double[1], 0, 0, 0));
    assertTrue(high.getMessage().startsWith("partition must be in [0, 4), got 4"), high.getMessage());
    assertThrows(IllegalArgumentException.class, () -> GradientPartial.leaf(-1, 4, new double[1], 0, 0, 0));
    IllegalArgumentException none = assertThrows(IllegalArgumentException.class,
        () -> GradientPartial.leaf(0, 0, new double[1], 0, 0, 0));
    assertTrue(none.getMessage().startsWith("numPartitions"), none.getMessage());
    IllegalArgumentException nullGradient = assertThrows(IllegalArgumentException.class,
        () -> GradientPartial.leaf(0, 1, (double[]) null, 0, 0, 0));
    assertTrue(nullGradient.getMessage().startsWith("gradient"), nullGradient.getMessage());
  }

  @Test
  void mergingDoesNotAllocateGradientArrays() {
    // The root's gradient is the array of the leftmost leaf, added into in place.
    double[] g0 = {1, 2};
    GradientPartial sum = GradientPartial.leaf(1, 3, new double[] {10, 20}, 0, 0, 0)
        .merge(GradientPartial.leaf(2, 3, new double[] {100, 200}, 0, 0, 0))
        .merge(GradientPartial.leaf(0, 3, g0, 0, 0, 0));
    assertSame(g0, sum.gradient());
    assertEquals(111.0, g0[0]);
    assertEquals(222.0, g0[1]);
  }

  @Test
  void float32LeavesSumLikeTheirExactDoubleValuesInEveryMergeOrder() {
    java.util.Random r = new java.util.Random(5);
    int parts = 5;
    int d = 7;
    float[][] shares = new float[parts][d];
    for (float[] s : shares) {
      for (int i = 0; i < d; i++) {
        s[i] = (float) r.nextGaussian();
      }
    }
    GradientPartial widened = GradientPartial.empty();
    GradientPartial reversed = GradientPartial.empty();
    for (int p = 0; p < parts; p++) {
      double[] g = new double[d];
      for (int i = 0; i < d; i++) {
        g[i] = shares[p][i];
      }
      widened.merge(GradientPartial.leaf(p, parts, g, p, 1, 1));
      int q = parts - 1 - p;
      reversed.merge(GradientPartial.leaf(q, parts, shares[q].clone(), q, 1, 1));
    }
    assertArrayEquals(widened.gradient(), reversed.gradient(), 0.0);
    assertEquals(widened.loss(), reversed.loss(), 0.0);
    GradientPartial single = GradientPartial.leaf(0, 1, new float[] {1.5f, -2.25f}, 3, 2, 1);
    assertArrayEquals(new double[] {1.5, -2.25}, single.gradient(), 0.0);
  }
}
