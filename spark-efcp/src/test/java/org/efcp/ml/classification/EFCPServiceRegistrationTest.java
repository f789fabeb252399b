package org.efcp.ml.classification;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.stream.Collectors;
import org.apache.spark.ml.Estimator;
import org.apache.spark.ml.Transformer;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.ml.param.Params;
import org.junit.jupiter.api.Test;

/**
 * Spark Connect ML (Spark 4.x {@code MLUtils}) finds stages by class name through {@link ServiceLoader}: it
 * streams the providers of {@code Estimator} / {@code Transformer} from the context class loader without
 * instantiating them (which still requires a public no-arg constructor), creates estimators with
 * {@code getConstructor(String).newInstance(uid)} and loads saved stages with the static {@code load(String)}.
 * Our four stages must pass each of those steps.
 */
class EFCPServiceRegistrationTest {
  private static final List<Class<?>> ESTIMATORS =
      List.of(EFCPLogisticRegression.class, EFCPMultilayerPerceptronClassifier.class);
  private static final List<Class<?>> MODELS =
      List.of(EFCPLogisticRegressionModel.class, EFCPMultilayerPerceptronClassificationModel.class);

  /** As MLUtils.loadOperators: provider type name → type, via stream() (no instantiation). */
  private static Map<String, Class<?>> loadOperators(Class<?> service) {
    ServiceLoader<?> loader = ServiceLoader.load(service, Thread.currentThread().getContextClassLoader());
    return loader.stream().collect(Collectors.toMap(p -> p.type().getName(), ServiceLoader.Provider::type));
  }

  @Test
  void estimatorServicesListBothEstimatorsAndNoModel() {
    Map<String, Class<?>> estimators = loadOperators(Estimator.class);

    for (Class<?> c : ESTIMATORS) {
      assertEquals(c, estimators.get(c.getName()), c.getName());
    }
    for (Class<?> c : MODELS) {
      assertFalse(estimators.containsKey(c.getName()), c.getName() + " is a transformer");
    }
    assertTrue(estimators.containsKey("org.apache.spark.ml.classification.LogisticRegression"),
        "Spark's own registrations are still found next to ours");
  }

  @Test
  void transformerServicesListBothModels() {
    Map<String, Class<?>> transformers = loadOperators(Transformer.class);

    for (Class<?> c : MODELS) {
      assertEquals(c, transformers.get(c.getName()), c.getName());
    }
  }

  @Test
  void estimatorsAreCreatedWithTheUidConnectSends() throws ReflectiveOperationException {
    for (Class<?> c : ESTIMATORS) {
      Params p = (Params) c.getConstructor(String.class).newInstance("client_uid_1");

      assertEquals("client_uid_1", p.uid());
      assertEquals("client_uid_1", p.getParam("featuresCol").parent(), "params belong to the given uid");
    }
  }

  @Test
  void everyRegisteredStageHasAStaticLoadAndTheServiceLoaderCanInstantiateIt() throws NoSuchMethodException {
    for (Class<?> service : List.of(Estimator.class, Transformer.class)) {
      ServiceLoader<?> loader = ServiceLoader.load(service, Thread.currentThread().getContextClassLoader());
      List<Object> ours = loader.stream()
          .filter(p -> p.type().getName().startsWith("org.efcp."))
          .map(ServiceLoader.Provider::get)
          .collect(Collectors.toList());

      assertEquals(2, ours.size(), service.getSimpleName());
      for (Object stage : ours) {
        Method load = stage.getClass().getMethod("load", String.class);
        assertTrue(Modifier.isStatic(load.getModifiers()), stage.getClass() + ".load is static");
        assertTrue(stage.getClass().isAssignableFrom(load.getReturnType()), "load returns the stage type");
      }
    }
  }

  @Test
  void placeholderModelsFromTheServiceLoaderRefuseToPredict() {
    EFCPLogisticRegressionModel lr = new EFCPLogisticRegressionModel();
    EFCPMultilayerPerceptronClassificationModel mlp = new EFCPMultilayerPerceptronClassificationModel();

    assertEquals(0, lr.numFeatures());
    assertEquals(0, mlp.numFeatures());
    assertThrows(IllegalArgumentException.class, () -> lr.predictRaw(Vectors.dense(1.0)));
    assertThrows(IllegalArgumentException.class, () -> mlp.predictRaw(Vectors.dense(1.0)));
  }
}
