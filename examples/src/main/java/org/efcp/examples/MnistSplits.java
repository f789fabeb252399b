package org.efcp.examples;

import java.nio.file.Path;

/**
 * The MNIST training and evaluation splits an example fits and scores on, read from the IDX files in a directory.
 *
 * @param train the images the models are fitted on
 * @param test the images they are scored on: the standard test split, or a hold-out of the training split
 */
record MnistSplits(MnistIdx train, MnistIdx test) {

  /**
   * The standard splits in {@code dir}, cut to their first {@code trainImages} / {@code testImages} images
   * (0 = all).
   *
   * @throws IllegalArgumentException starting with {@code --data} when a file is missing or damaged
   */
  static MnistSplits load(Path dir, long trainImages, long testImages) {
    try {
      return new MnistSplits(first(MnistIdx.train(dir), trainImages), first(MnistIdx.test(dir), testImages));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--data: " + e.getMessage(), e);
    }
  }

  /**
   * Validation splits for tuning without the test split (which is not read): the first images of the training
   * split in {@code dir} (cut to its first {@code trainImages}, 0 = all) for fitting, its last {@code n} for
   * scoring.
   *
   * @throws IllegalArgumentException starting with {@code --data} when a file is missing or damaged, with
   *     {@code --validation} unless 1 ≤ n &lt; training images
   */
  static MnistSplits validation(Path dir, long trainImages, long n) {
    MnistIdx train;
    try {
      train = first(MnistIdx.train(dir), trainImages);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("--data: " + e.getMessage(), e);
    }
    if (n < 1 || n >= train.size()) {
      throw new IllegalArgumentException("--validation: expected 1.." + (train.size() - 1) + " of the "
          + train.size() + " training images, got " + n);
    }
    return new MnistSplits(train.first(train.size() - (int) n), train.last((int) n));
  }

  private static MnistIdx first(MnistIdx split, long n) {
    return n == 0 || n >= split.size() ? split : split.first((int) n);
  }
}
