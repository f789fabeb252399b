package org.efcp.optim;

/** The argument check every {@link Preconditioner#update} starts with. */
final class UpdateArguments {
  private UpdateArguments() {}

  /** @throws IllegalArgumentException naming {@code c} or {@code out} when it does not have length d */
  static void check(int d, CompressedVector c, double[] out) {
    if (c.dimension() != d) {
      throw new IllegalArgumentException("c: dimension must be " + d + ", got " + c.dimension());
    }
    if (out.length != d) {
      throw new IllegalArgumentException("out: length must be " + d + ", got " + out.length);
    }
  }
}
