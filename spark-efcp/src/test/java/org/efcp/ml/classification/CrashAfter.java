package org.efcp.ml.classification;

import org.efcp.ml.train.StepRecord;
import org.efcp.ml.train.TrainingListener;

/** A training listener that stands for a driver crash: it throws once the fit has taken step {@code step}. */
final class CrashAfter implements TrainingListener {
  private final long step;

  CrashAfter(long step) {
    this.step = step;
  }

  @Override
  public void onStep(StepRecord record) {
    if (record.step() == step) {
      throw new IllegalStateException("simulated driver crash after step " + step);
    }
  }
}
