package org.efcp.examples;

import java.util.Locale;

/**
 * One benchmark fit, as {@link ClipProbeBenchmark} reports it.
 *
 * @param method the estimator, e.g. {@code mllib-lr}
 * @param maxIter the iteration cap the fit ran with
 * @param iterations iterations the fit actually ran
 * @param fitSeconds wall time of {@code fit()} in seconds (data already cached; evaluation not included)
 * @param testAccuracy fraction of test rows predicted correctly
 * @param finalLoss the training objective after the last iteration
 */
record FitReport(String method, int maxIter, int iterations, double fitSeconds, double testAccuracy,
    double finalLoss) {

  /** One JSON object on one line, with the split sizes. */
  String toJson(long trainRows, long testRows) {
    return String.format(Locale.ROOT,
        "{\"method\":\"%s\",\"train_rows\":%d,\"test_rows\":%d,\"max_iter\":%d,\"iterations\":%d,"
            + "\"fit_seconds\":%.3f,\"test_accuracy\":%.4f,\"final_loss\":%s}",
        method, trainRows, testRows, maxIter, iterations, fitSeconds, testAccuracy, jsonNumber(finalLoss));
  }

  /** JSON has no NaN or infinity; those become null. */
  private static String jsonNumber(double v) {
    return Double.isFinite(v) ? String.format(Locale.ROOT, "%.6g", v) : "null";
  }
}
