package org.efcp.ml.classification;

/**
 * The cheapest fits, for tests of how input is handled rather than of what is learned: one epoch of SGD in
 * 200-row steps, one Spark job per step.
 */
final class QuickFits {
  private QuickFits() {}

  static EFCPLogisticRegression logisticRegression() {
    return new EFCPLogisticRegression().setOptimizer("sgd").setNumEpochs(1).setBatchSize(200).setStepEngine("jobs");
  }

  /** An MLP for {@code features} inputs and 3 classes, with one hidden layer of 5. */
  static EFCPMultilayerPerceptronClassifier perceptron(int features) {
    return new EFCPMultilayerPerceptronClassifier().setLayers(new int[] {features, 5, 3}).setOptimizer("sgd")
        .setNumEpochs(1).setBatchSize(200).setStepEngine("jobs");
  }
}
