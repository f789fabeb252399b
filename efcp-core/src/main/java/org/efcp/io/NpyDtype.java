package org.efcp.io;

/** The element types this package reads: little-endian IEEE float32 and float64 ({@code '<f4'}, {@code '<f8'}). */
public enum NpyDtype {
  FLOAT32("<f4", 4),
  FLOAT64("<f8", 8);

  private final String descr;
  private final int itemSize;

  NpyDtype(String descr, int itemSize) {
    this.descr = descr;
    this.itemSize = itemSize;
  }

  /** The header's {@code 'descr'} string, e.g. {@code <f8}. */
  public String descr() {
    return descr;
  }

  /** Bytes per element. */
  public int itemSize() {
    return itemSize;
  }

  /**
   * The dtype of a header {@code 'descr'} string.
   *
   * @throws IllegalArgumentException saying why {@code descr} is not supported (big-endian, integer, ...)
   */
  static NpyDtype fromDescr(String descr) {
    for (NpyDtype t : values()) {
      if (t.descr.equals(descr)) {
        return t;
      }
    }
    String why = descr.startsWith(">") ? "big-endian; " : "";
    throw new IllegalArgumentException(
        "unsupported dtype '" + descr + "' (" + why + "expected '<f4' float32 or '<f8' float64)");
  }
}
