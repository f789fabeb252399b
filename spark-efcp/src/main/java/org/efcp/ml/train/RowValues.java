package org.efcp.ml.train;

import org.apache.spark.sql.Row;

/**
 * The rules a fit and an evaluation share for the values of one row, each refusing a bad value with an
 * {@link IllegalArgumentException} that starts with the column's name (e.g. "labelCol 'label'") and says where the
 * row is: row {@code n} (from 0) of partition {@code partition}.
 */
public final class RowValues {
  private RowValues() {}

  /** Refuses a null in field {@code i}. */
  public static void requireValue(Row row, int i, String name, int n, int partition) {
    if (row.isNullAt(i)) {
      throw new IllegalArgumentException(name + ": null in row " + n + " of partition " + partition);
    }
  }

  /** The label in field {@code i} (a double column): a class index, i.e. an integer 0, 1, 2, .... */
  public static double label(Row row, int i, String name, int n, int partition) {
    requireValue(row, i, name, n, partition);
    double label = row.getDouble(i);
    if (!(label >= 0 && label == Math.rint(label) && label < Integer.MAX_VALUE)) {
      throw new IllegalArgumentException(name + ": value " + label + " in row " + n + " of partition "
          + partition + " is not a class index (labels must be integers 0, 1, 2, ...)");
    }
    return label;
  }

  /** The weight in field {@code i} (a double column): finite and ≥ 0. */
  public static double weight(Row row, int i, String name, int n, int partition) {
    requireValue(row, i, name, n, partition);
    double weight = row.getDouble(i);
    if (!(weight >= 0 && weight < Double.POSITIVE_INFINITY)) {
      throw new IllegalArgumentException(name + ": value " + weight + " in row " + n + " of partition "
          + partition + " (weights must be finite and >= 0)");
    }
    return weight;
  }
}
