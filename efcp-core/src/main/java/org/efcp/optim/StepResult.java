package org.efcp.optim;

/**
 * What one {@link EfcpOptimizer#step} did.
 *
 * @param step the index t of the step (counted from 0)
 * @param learningRate η_t = η_0 · schedule factor(t), the rate applied to the direction
 * @param gradientNorm ‖g‖₂ of the raw gradient
 * @param directionNorm ‖u‖₂ of the preconditioned direction after clipping (before momentum)
 * @param clipped whether u was scaled down to the clip norm
 * @param metrics preconditioning metrics of g against the final direction (after momentum), or null unless
 *     requested
 */
public record StepResult(
    long step, double learningRate, double gradientNorm, double directionNorm, boolean clipped,
    PreconditioningMetrics metrics) {}
