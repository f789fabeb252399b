package org.efcp.cuda;

import java.util.function.IntSupplier;

import jcuda.driver.CUresult;

/** Checks driver calls and turns every failure into a {@link CudaException} that says what was called. */
final class Cuda {
  private Cuda() {}

  /**
   * Runs {@code call} and throws {@link CudaException} naming {@code what} when it fails, whether JCuda
   * reports the failure by its return value or (exceptions enabled) by throwing its own exception.
   */
  static void check(String what, IntSupplier call) {
    int result;
    try {
      result = call.getAsInt();
    } catch (jcuda.CudaException e) {
      throw new CudaException(what + ": " + e.getMessage(), e);
    }
    if (result != CUresult.CUDA_SUCCESS) {
      throw new CudaException(what + ": " + CUresult.stringFor(result));
    }
  }
}
