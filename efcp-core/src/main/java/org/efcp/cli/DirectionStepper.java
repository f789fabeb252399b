package org.efcp.cli;

import org.efcp.optim.CompressedVector;
import org.efcp.optim.Preconditioner;

/**
 * What the commands need from a {@link org.efcp.optim.DirectionPipeline}: one stateful step g → u and its
 * observables. A seam so that the command plumbing (file handling, validation, timing) is testable on its own.
 */
interface DirectionStepper {
  /** One step: {@code g} (length d, not modified) → the update direction in {@code uOut} (length d). */
  void direction(double[] g, double[] uOut);

  /** The compressed vector c_t of the last step. */
  CompressedVector lastCompressed();

  /** Persistent state bytes (error buffer, compressor and preconditioner state). */
  long memoryBytes();

  /** The preconditioner, e.g. to read M-FAC timings. */
  Preconditioner preconditioner();
}
