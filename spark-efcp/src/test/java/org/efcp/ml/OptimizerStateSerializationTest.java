package org.efcp.ml;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.nio.ByteBuffer;
import java.util.Random;

import org.apache.spark.SparkConf;
import org.apache.spark.serializer.JavaSerializer;
import org.apache.spark.serializer.KryoSerializer;
import org.apache.spark.serializer.SerializerInstance;
import org.efcp.optim.EfcpOptimizer;
import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import scala.reflect.ClassTag$;

/**
 * The driver's optimizer state survives Spark's serializers (Java, and Kryo as conf/spark-defaults.conf
 * selects) and continues bit-identically, so checkpoints and shipped state are safe.
 */
class OptimizerStateSerializationTest {

  @ParameterizedTest
  @ValueSource(strings = {"java", "kryo"})
  void optimizerContinuesBitIdenticallyAfterASparkSerializerRoundTrip(String serializer) {
    SparkConf conf = new SparkConf(false);
    SerializerInstance ser = serializer.equals("java")
        ? new JavaSerializer(conf).newInstance()
        : new KryoSerializer(conf.set("spark.kryo.registrationRequired", "false")).newInstance();
    TensorLayout layout = TensorLayout.parse("6x10,6");
    OptimizerConfig config = OptimizerConfig.builder(Method.SPARSE_MFAC, layout)
        .window(8).density(0.1).damping(1e-3).momentum(0.5).build();
    EfcpOptimizer original = new EfcpOptimizer(config);
    double[] theta = new double[layout.dimension()];
    Random rnd = new Random(3);
    for (int t = 0; t < 12; t++) {
      original.step(theta, gaussian(rnd, theta.length));
    }
    ByteBuffer bytes = ser.serialize(original, ClassTag$.MODULE$.apply(EfcpOptimizer.class));
    EfcpOptimizer restored = ser.deserialize(bytes, ClassTag$.MODULE$.apply(EfcpOptimizer.class));
    double[] thetaRestored = theta.clone();
    for (int t = 0; t < 10; t++) {
      double[] g = gaussian(rnd, theta.length);
      original.step(theta, g);
      restored.step(thetaRestored, g);
    }
    assertArrayEquals(theta, thetaRestored, 0.0);
  }

  private static double[] gaussian(Random rnd, int d) {
    double[] g = new double[d];
    for (int i = 0; i < d; i++) {
      g[i] = rnd.nextGaussian();
    }
    return g;
  }
}
