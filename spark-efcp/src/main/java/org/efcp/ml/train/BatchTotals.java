package org.efcp.ml.train;

/**
 * The scalar sums of a partition's (or the whole cluster's) mini-batch rows.
 *
 * @param loss Σ w·loss (natural log)
 * @param weight Σ w
 * @param rows number of rows
 */
public record BatchTotals(double loss, double weight, long rows) {}
