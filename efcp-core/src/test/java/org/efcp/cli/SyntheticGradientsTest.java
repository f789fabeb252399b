package org.efcp.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

class SyntheticGradientsTest {

  @Test
  void sameSeedGivesTheSameSequenceAndOtherSeedsDiffer() {
    SyntheticGradients a = new SyntheticGradients(1001, 42);
    SyntheticGradients b = new SyntheticGradients(1001, 42);
    SyntheticGradients c = new SyntheticGradients(1001, 43);
    double[] ga = new double[1001];
    double[] gb = new double[1001];
    double[] gc = new double[1001];
    double[] previous = null;
    for (int t = 0; t < 3; t++) {
      a.next(ga);
      b.next(gb);
      c.next(gc);
      assertArrayEquals(ga, gb, 0.0);
      assertFalse(Arrays.equals(ga, gc));
      if (previous != null) {
        assertFalse(Arrays.equals(previous, ga), "steps differ");
      }
      previous = ga.clone();
    }
  }

  @Test
  void valuesDependOnTheIndexOnlySoParallelSplittingCannotChangeThem() {
    // d = 300,000 is filled in several parallel chunks, d = 1,000 inline; entries must agree.
    SyntheticGradients big = new SyntheticGradients(300_000, 7);
    SyntheticGradients small = new SyntheticGradients(1_000, 7);
    double[] gBig = new double[300_000];
    double[] gSmall = new double[1_000];
    for (int t = 0; t < 2; t++) {
      big.next(gBig);
      small.next(gSmall);
      assertArrayEquals(gSmall, Arrays.copyOf(gBig, 1_000), 0.0);
    }
  }

  @Test
  void coordinatesAreGaussianWithLogNormalScales() {
    int d = 2000;
    int steps = 200;
    SyntheticGradients source = new SyntheticGradients(d, 3);
    double[][] g = new double[steps][d];
    for (double[] row : g) {
      source.next(row);
    }
    // Per coordinate: sample sd estimates the scale s_i = exp(z_i), z_i ~ N(0, 1).
    double[] logSd = new double[d];
    double m4 = 0;
    double m2 = 0;
    for (int i = 0; i < d; i++) {
      double ss = 0;
      for (int t = 0; t < steps; t++) {
        ss += g[t][i] * g[t][i];
      }
      double sd = Math.sqrt(ss / steps);
      logSd[i] = Math.log(sd);
      for (int t = 0; t < steps; t++) {
        double z = g[t][i] / sd;
        m2 += z * z;
        m4 += z * z * z * z;
      }
    }
    double mean = Arrays.stream(logSd).average().orElseThrow();
    double var = Arrays.stream(logSd).map(x -> (x - mean) * (x - mean)).sum() / (d - 1);
    assertEquals(0.0, mean, 0.1, "mean of log scale");
    assertEquals(1.0, Math.sqrt(var), 0.1, "sd of log scale");
    double kurtosis = (m4 / (d * steps)) / Math.pow(m2 / (d * steps), 2);
    assertEquals(3.0, kurtosis, 0.2, "Gaussian kurtosis of standardised values");
  }

  @Test
  void magnitudesAreHeavyTailedSoTopKIsFarFromUniform() {
    int d = 20_000;
    double[] g = new double[d];
    new SyntheticGradients(d, 0).next(g);
    double[] a = Arrays.stream(g).map(Math::abs).sorted().toArray();
    double total = Arrays.stream(a).sum();
    double top = 0;
    for (int i = d - d / 100; i < d; i++) {
      top += a[i];
    }
    // Top 1 % of a Gaussian holds ~3.7 % of the L1 mass; with log-normal scales ~13 %.
    assertTrue(top / total > 0.08, "top-1% share " + top / total);
    assertTrue(Arrays.stream(g).allMatch(Double::isFinite));
  }
}
