package org.efcp.optim;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How the flat parameter vector θ ∈ R^d is made of tensors: tensors are concatenated in registration order
 * and each is flattened row-major (C order). The low-rank compressor views a tensor of shape
 * (p1, p2, ..., ps), s ≥ 2, as the p1 × (p2·…·ps) matrix; 1-D tensors are left uncompressed.
 */
public final class TensorLayout implements Serializable {
  private static final long serialVersionUID = 1L;

  private final int[][] shapes;
  private final int[] offsets;
  private final int dimension;

  /** A layout of the given tensor shapes (each shape non-empty, every extent ≥ 1, total size < 2^31). */
  public TensorLayout(List<int[]> shapes) {
    if (shapes.isEmpty()) {
      throw new IllegalArgumentException("shapes: at least one tensor is required");
    }
    this.shapes = new int[shapes.size()][];
    this.offsets = new int[shapes.size()];
    long total = 0;
    for (int l = 0; l < shapes.size(); l++) {
      int[] shape = shapes.get(l);
      if (shape.length == 0) {
        throw new IllegalArgumentException("shapes: tensor " + l + " has no dimensions");
      }
      long size = 1;
      for (int extent : shape) {
        if (extent < 1) {
          throw new IllegalArgumentException("shapes: tensor " + l + " has extent " + extent + " (must be >= 1)");
        }
        size *= extent;
      }
      offsets[l] = (int) Math.min(total, Integer.MAX_VALUE);
      total += size;
      if (total >= Integer.MAX_VALUE) {
        throw new IllegalArgumentException("shapes: total size exceeds 2^31 - 1");
      }
      this.shapes[l] = shape.clone();
    }
    this.dimension = (int) total;
  }

  /** One 1-D tensor of length d. */
  public static TensorLayout flat(int d) {
    return new TensorLayout(List.of(new int[] {d}));
  }

  /**
   * Parses {@code "30x40,30"}: tensors separated by commas, extents by {@code x}.
   *
   * @throws IllegalArgumentException naming the bad part
   */
  public static TensorLayout parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("shapes: empty specification");
    }
    List<int[]> list = new ArrayList<>();
    for (String part : spec.trim().split(",")) {
      String[] dims = part.trim().split("x");
      int[] shape = new int[dims.length];
      for (int i = 0; i < dims.length; i++) {
        try {
          shape[i] = Integer.parseInt(dims[i].trim());
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("shapes: cannot parse '" + part.trim() + "' (expected e.g. 30x40,30)");
        }
      }
      list.add(shape);
    }
    return new TensorLayout(list);
  }

  /** d, the total number of parameters. */
  public int dimension() {
    return dimension;
  }

  public int numTensors() {
    return shapes.length;
  }

  /** The shape of tensor {@code l} (a copy). */
  public int[] shape(int l) {
    return shapes[l].clone();
  }

  /** Offset of tensor {@code l} in the flat vector. */
  public int offset(int l) {
    return offsets[l];
  }

  /** Number of entries of tensor {@code l}. */
  public int size(int l) {
    return (l + 1 < shapes.length ? offsets[l + 1] : dimension) - offsets[l];
  }

  /** True for tensors of two or more dimensions (the ones the low-rank compressor compresses). */
  public boolean isMatrix(int l) {
    return shapes[l].length >= 2;
  }

  /** p1, the row count of the matrix view of tensor {@code l} (its size for a 1-D tensor). */
  public int rows(int l) {
    return shapes[l][0];
  }

  /** p2·…·ps, the column count of the matrix view of tensor {@code l} (1 for a 1-D tensor). */
  public int cols(int l) {
    return size(l) / shapes[l][0];
  }

  /** The inverse of {@link #parse}: {@code "30x40,30"}. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    for (int l = 0; l < shapes.length; l++) {
      if (l > 0) {
        sb.append(',');
      }
      for (int i = 0; i < shapes[l].length; i++) {
        if (i > 0) {
          sb.append('x');
        }
        sb.append(shapes[l][i]);
      }
    }
    return sb.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TensorLayout other && Arrays.deepEquals(shapes, other.shapes);
  }

  @Override
  public int hashCode() {
    return Arrays.deepHashCode(shapes);
  }
}
