package org.efcp.optim.gpu;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The emulation's sanitizers catch the kernel faults a device may let pass: {@code faulty_harness} launches a kernel
 * with one fault each, and its run must fail with the sanitizer's report naming the fault.
 */
class KernelEmulationSanitizerTest {
  @RegisterExtension
  static final KernelEmulation EMULATION = KernelEmulation.of("faulty_harness");

  @ParameterizedTest(name = "{0}")
  @CsvSource({
      "device, heap-buffer-overflow",
      "shared, index 256 out of bounds",
      "overflow, signed integer overflow"})
  void aFaultyKernelFailsItsHarnessWithTheSanitizersReport(String fault, String report) throws Exception {
    assumeTrue(KernelEmulation.sanitized(), "g++ cannot build sanitized programs here");
    String output = EMULATION.runExpectingFailure("faulty_harness", fault);
    assertTrue(output.contains(report), "expected \"" + report + "\" in: " + output);
  }
}
