package org.efcp.cuda;

/**
 * A CUDA driver call failed. The message names the call (and the kernel or module where one is involved)
 * followed by the {@code CUresult} name, e.g. {@code "cuLaunchKernel(efcp_fill_f64): CUDA_ERROR_INVALID_VALUE"}.
 */
public class CudaException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public CudaException(String message) {
    super(message);
  }

  public CudaException(String message, Throwable cause) {
    super(message, cause);
  }

  /** Whether the call failed for lack of device memory ({@code CUDA_ERROR_OUT_OF_MEMORY}). */
  public boolean isOutOfMemory() {
    return getMessage() != null && getMessage().contains("CUDA_ERROR_OUT_OF_MEMORY");
  }
}
