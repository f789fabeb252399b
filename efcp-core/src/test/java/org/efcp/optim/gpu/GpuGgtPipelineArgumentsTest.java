package org.efcp.optim.gpu;

import static org.efcp.optim.gpu.GpuPipelineTesting.assertRejects;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.efcp.optim.Method;
import org.efcp.optim.OptimizerConfig;
import org.efcp.optim.TensorLayout;
import org.junit.jupiter.api.Test;

/** The GGT constructors' checks run before the device is touched, so they are testable without a GPU. */
class GpuGgtPipelineArgumentsTest {
  @Test
  void badSparseArgumentsAreRejectedWithTheParameterName() {
    assertRejects("d", () -> new GpuSparseGgtPipeline(null, 0, 4, 1, 1e-5, 1e-6));
    assertRejects("m", () -> new GpuSparseGgtPipeline(null, 10, 0, 1, 1e-5, 1e-6));
    assertRejects("k", () -> new GpuSparseGgtPipeline(null, 10, 4, 0, 1e-5, 1e-6));
    assertRejects("k", () -> new GpuSparseGgtPipeline(null, 10, 4, 11, 1e-5, 1e-6));
    assertRejects("epsilon", () -> new GpuSparseGgtPipeline(null, 10, 4, 2, 0.0, 1e-6));
    assertRejects("epsilon", () -> new GpuSparseGgtPipeline(null, 10, 4, 2, Double.NaN, 1e-6));
    assertRejects("ridge", () -> new GpuSparseGgtPipeline(null, 10, 4, 2, 1e-5, -1e-9));
    assertRejects("ridge", () -> new GpuSparseGgtPipeline(null, 10, 4, 2, 1e-5, Double.POSITIVE_INFINITY));
  }

  @Test
  void badDenseArgumentsAreRejectedWithTheParameterName() {
    assertRejects("d", () -> new GpuDenseGgtPipeline(null, 0, 4, 1e-5, 1e-6));
    assertRejects("d", () -> new GpuDenseGgtPipeline(null, Integer.MAX_VALUE, 4, 1e-5, 1e-6));
    assertRejects("m", () -> new GpuDenseGgtPipeline(null, 10, -1, 1e-5, 1e-6));
    assertRejects("epsilon", () -> new GpuDenseGgtPipeline(null, 10, 4, Double.POSITIVE_INFINITY, 1e-6));
    assertRejects("ridge", () -> new GpuDenseGgtPipeline(null, 10, 4, 1e-5, Double.NaN));
  }

  @Test
  void windowsAbove128AreRejectedBeforeTheDeviceIsTouched() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new GpuDenseGgtPipeline(null, 10, 129, 1e-5, 1e-6));
    assertTrue(e.getMessage().startsWith("m: the GPU GGT supports m ≤ 128"), e.getMessage());
    assertRejects("m", () -> new GpuSparseGgtPipeline(null, 1000, 129, 10, 1e-5, 1e-6));
    for (Method method : new Method[] {Method.DENSE_GGT, Method.SPARSE_GGT}) {
      OptimizerConfig config = OptimizerConfig.builder(method, TensorLayout.flat(1000)).window(129).build();
      assertRejects("m", () -> GpuPipelines.create(null, config));
    }
  }

  @Test
  void theObstacleOfAGgtWindowAbove128NamesTheLimit() {
    for (Method method : new Method[] {Method.DENSE_GGT, Method.SPARSE_GGT}) {
      assertNull(GpuPipelines.obstacle(method, 128, 0));
      assertNull(GpuPipelines.obstacle(method, 0, 0), "the default window 100 fits");
      assertEquals("the GPU GGT eigen step takes m <= 128, got m = 129", GpuPipelines.obstacle(method, 129, 0));
    }
  }

  @Test
  void aMissingContextIsRejectedAfterTheArguments() {
    assertThrows(NullPointerException.class, () -> new GpuSparseGgtPipeline(null, 10, 4, 2, 1e-5, 1e-6));
    assertThrows(NullPointerException.class, () -> new GpuDenseGgtPipeline(null, 10, 128, 1e-5, 0));
  }
}
