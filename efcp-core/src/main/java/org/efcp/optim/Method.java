package org.efcp.optim;

import java.util.Locale;

/** The update-direction methods, named as on the command line and in the Spark {@code optimizer} param. */
public enum Method {
  /** M-FAC over the full uncompressed window (m×d float32). */
  DENSE_MFAC("dense-mfac", true, 1024),
  /** M-FAC over Top-k compressed vectors with error feedback (the paper's S-MFAC). */
  SPARSE_MFAC("sparse-mfac", true, 1024),
  /** M-FAC over per-tensor low-rank compressed vectors with error feedback (paper Algorithm 4). */
  LOWRANK_MFAC("lowrank-mfac", true, 1024),
  /** GGT over the full uncompressed window. */
  DENSE_GGT("dense-ggt", false, 100),
  /** GGT over Top-k compressed vectors with error feedback. */
  SPARSE_GGT("sparse-ggt", false, 100),
  /** Diagonal AdaGrad over Top-k compressed vectors with error feedback (paper Algorithm 5). */
  ADAGRAD_EF("adagrad-ef", false, 0),
  /** No preconditioning: u = g. */
  SGD("sgd", false, 0);

  private final String cliName;
  private final boolean mfac;
  private final int defaultWindow;

  Method(String cliName, boolean mfac, int defaultWindow) {
    this.cliName = cliName;
    this.mfac = mfac;
    this.defaultWindow = defaultWindow;
  }

  /** The name used on the command line and in Spark params, e.g. {@code sparse-mfac}. */
  public String cliName() {
    return cliName;
  }

  /** True for the M-FAC family (they have an m×m Cholesky window state). */
  public boolean isMfac() {
    return mfac;
  }

  /** True for methods that keep a ring buffer of m vectors. */
  public boolean hasWindow() {
    return defaultWindow > 0;
  }

  /** The paper's window size m: 1024 for M-FAC, 100 for GGT, 0 for methods without a window. */
  public int defaultWindow() {
    return defaultWindow;
  }

  /** True for methods that compress with Top-k and error feedback. */
  public boolean usesTopK() {
    return this == SPARSE_MFAC || this == SPARSE_GGT || this == ADAGRAD_EF;
  }

  /**
   * Parses a CLI/param name (case-insensitive).
   *
   * @throws IllegalArgumentException listing the valid names
   */
  public static Method fromName(String name) {
    String n = name == null ? "" : name.trim().toLowerCase(Locale.ROOT);
    for (Method m : values()) {
      if (m.cliName.equals(n)) {
        return m;
      }
    }
    StringBuilder valid = new StringBuilder();
    for (Method m : values()) {
      valid.append(valid.length() == 0 ? "" : ", ").append(m.cliName);
    }
    throw new IllegalArgumentException("method: unknown '" + name + "' (expected one of " + valid + ")");
  }
}
