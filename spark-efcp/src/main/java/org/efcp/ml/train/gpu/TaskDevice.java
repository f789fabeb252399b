package org.efcp.ml.train.gpu;

import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.efcp.cuda.CudaAvailability;
import org.efcp.cuda.CudaProbe;
import org.efcp.cuda.DevicePreference;
import org.efcp.cuda.GpuContext;

/**
 * The GPU a task computes its gradients on: the first address Spark assigned to the task as resource {@code gpu}
 * ({@code spark.task.resource.gpu.amount}, see {@code conf/spark-gpu.conf}), or device 0 where Spark assigns none
 * (local mode, clusters without GPU scheduling). {@code device=auto} falls back to the CPU when CUDA does not work
 * in this JVM (CudaProbe's one log line per executor) or the node lacks that device (one line more);
 * {@code device=gpu} fails the task with the reason.
 */
final class TaskDevice {
  private static final Logger LOG = LogManager.getLogger(TaskDevice.class);
  private static final AtomicBoolean REPORTED_CPU = new AtomicBoolean();

  private TaskDevice() {
  }

  /** The calling task's GPU, or null for the CPU. */
  static GpuContext forCurrentTask(DevicePreference preference) {
    if (preference == DevicePreference.CPU) {
      return null;
    }
    TaskContext task = TaskContext.get();
    int ordinal = assignedOrdinal(task == null ? null : task.resourcesJMap());
    CudaAvailability cuda = CudaProbe.availability();
    String unusable = unusableReason(ordinal, cuda);
    if (unusable == null) {
      return GpuContext.open(ordinal);
    }
    String executor = SparkEnv.get() == null ? "driver" : SparkEnv.get().executorId();
    if (preference == DevicePreference.GPU) {
      throw new IllegalStateException("device: gpu requested but executor " + executor + " cannot use GPU "
          + ordinal + ": " + unusable);
    }
    // Without CUDA, CudaProbe has already logged the reason once in this JVM.
    if (cuda.available() && REPORTED_CPU.compareAndSet(false, true)) {
      LOG.info("EFCP device=auto: executor {} computes gradients on the CPU ({})", executor, unusable);
    }
    return null;
  }

  /**
   * The CUDA ordinal of the first {@code gpu} address in {@code resources}, or 0 when there is none.
   *
   * @throws IllegalStateException when the address is not a non-negative integer
   */
  static int assignedOrdinal(Map<String, ResourceInformation> resources) {
    ResourceInformation gpu = resources == null ? null : resources.get("gpu");
    if (gpu == null || gpu.addresses().length == 0) {
      return 0;
    }
    String address = gpu.addresses()[0].trim();
    try {
      int ordinal = Integer.parseInt(address);
      if (ordinal >= 0) {
        return ordinal;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalStateException("spark.task.resource.gpu: the task was given address '" + address
        + "', which is not a CUDA device ordinal (the discovery script must list ordinals such as \"0\")");
  }

  /** Why GPU {@code ordinal} cannot be used given {@code cuda}, or null when it can. */
  static String unusableReason(int ordinal, CudaAvailability cuda) {
    if (!cuda.available()) {
      return "CUDA is not available: " + cuda.reason();
    }
    if (ordinal >= cuda.deviceCount()) {
      return "this node has " + cuda.deviceCount() + " CUDA device(s)";
    }
    return null;
  }
}
