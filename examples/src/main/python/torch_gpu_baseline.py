#!/usr/bin/env python3
"""PyTorch baselines for the GPU benchmarks, on the card that runs ours (bin/gpu-checks runs this after our benches).

Prints one flat JSON line per measurement, like GpuStepBench / GpuGradientBench, with "bench" names prefixed
"torch_":
  torch_self_check        each variant's direction against the explicit inverse (run first; see self_check)
  torch_lr_gradient       multinomial logistic-regression loss and gradient, 8192 rows x 768 -> 1000 classes,
                          fp32 with TF32 off, then with TF32 on ("precision")
  torch_sparse_mfac_step  EF + Top-k sparse M-FAC step, d = 769,000, m = 1024, k = 7,690, damping 1e-4
  torch_dense_mfac_step   dense M-FAC step at the same d and m (a 3.15 GB float32 window)
Each M-FAC step comes in two variants: "authors_algorithm" (the authors' per-step algorithm as described in
shared/docs/efcp-algorithms.md §2.3-2.4 and §3: LU without pivoting, the coef recurrence B as a loop over rows,
the forward recurrence, M, and for the sparse step one scatter-add per window row) and "pytorch_best" (the same
operator in its Woodbury form M = lambd^2 A^-1 w, A = lambd K + m I, by Cholesky, and one flattened scatter-add).
Window vectors are float32 and every m x m quantity is float64 ("dots" says how the dot products are formed).
Times are CUDA-event milliseconds of single calls, each started on an idle GPU and waited for (latency), after
warm-up calls; the window is filled (m inserts) untimed first.

Options: --only lr,sparse,dense  --steps N  --no-self-check  --cpu (the self-check only, on the CPU).
Without torch or CUDA it prints one "skipped" line and exits 0; it exits 1 if a self-check fails or a part
raises (the other parts still run).
"""
import argparse
import json
import sys
import traceback

try:
    import torch
except ImportError:
    torch = None

DEVICE = "cuda"  # where the benchmarks and the default self-check run
D, M, K = 769_000, 1024, 7690
DAMPING = 1e-4
LR_ROWS, LR_FEATURES, LR_CLASSES = 8192, 768, 1000
LR_RUNS, LR_WARMUPS = 100, 10
# The authors' variant of the sparse step runs two Python loops of m iterations (~0.1 s a step): fewer steps.
AUTHORS_MAX_STEPS = 20
STEP_WARMUPS = {"pytorch_best": 5, "authors_algorithm": 2}
VARIANTS = ("pytorch_best", "authors_algorithm")

CHECK_D, CHECK_M, CHECK_K = 2000, 16, 20
# Steps whose direction is checked: the first (warm-up, zero slots), mid warm-up, after one and two wrap-arounds.
CHECK_AT = (0, CHECK_M // 2, CHECK_M + 3, 2 * CHECK_M + 4)
CHECK_TOLERANCE = 1e-4
# float64 vectors check the algebra at the benchmark's damping. float32 vectors check the benchmark's own code
# path, at a damping where fp32 rounding is not amplified: the direction cancels lambd * v against the window
# part, which multiplies rounding by about |x|^2 / (m * damping) (~1e6 here at 1e-4, ~10 at 10; doc §7 P1).
CHECK_PRECISIONS = (("float64", DAMPING), ("float32", 10.0))


def emit(**fields):
    print(json.dumps(fields, separators=(",", ":")), flush=True)


def set_tf32(enabled):
    """TF32 in cuBLAS matmuls: "high" lets float32 matmuls use TF32 tensor cores, "highest" keeps IEEE fp32
    (torch.set_float32_matmul_precision: one call that every torch since 1.12 understands)."""
    torch.set_float32_matmul_precision("high" if enabled else "highest")


# ---------------------------------------------------------------- M-FAC: window state and the two variants


def ef_topk(error, g, k):
    """Error feedback + Top-k (doc §1): a = xi + g; c = a on the k largest |a| (dense, zeros elsewhere); xi = a - c."""
    error.add_(g)
    idx = torch.topk(error.abs(), k, sorted=False).indices
    values = error[idx]
    error.index_fill_(0, idx, 0)
    c = torch.zeros_like(error)
    c[idx] = values
    return c, values, idx


class SparseWindow:
    """The last m compressed accumulators as value/index rows (slot t mod m; empty rows are zero), EF buffer, K."""

    DOTS = "fp32_products_fp64_sum"

    def __init__(self, d, m, k, dtype, device):
        self.m, self.k = m, k
        self.error = torch.zeros(d, dtype=dtype, device=device)
        self.values = torch.zeros(m, k, dtype=dtype, device=device)
        self.indices = torch.zeros(m, k, dtype=torch.int64, device=device)
        self.dots = torch.zeros(m, m, dtype=torch.float64, device=device)
        self.count = 0

    def insert(self, g):
        """EF + Top-k, store the row, w_j = <x_j, c> by a gather from the dense c, K's row and column; -> (c, w)."""
        c, values, idx = ef_topk(self.error, g, self.k)
        s = self.count % self.m
        self.values[s] = values
        self.indices[s] = idx
        w = torch.sum(self.values * c[self.indices], dim=1, dtype=torch.float64)
        self.dots[s, :] = w
        self.dots[:, s] = w
        self.count += 1
        return c, w

    def combine(self, coef, c, lambd, per_row):
        """u = lambd c - sum_j coef_j x_j as scatter-adds (indices repeat across rows, so they must accumulate)."""
        coef = coef.to(self.values.dtype)
        if per_row:
            # The authors' loop: zero a dense r, one index_add_ per filled row (doc §3 step 6).
            r = torch.zeros_like(c)
            for j in range(min(self.m, self.count)):
                r.index_add_(0, self.indices[j], self.values[j] * coef[j])
            return lambd * c - r
        u = lambd * c
        u.index_add_(0, self.indices.view(-1), (self.values * coef[:, None]).view(-1), alpha=-1)
        return u


class DenseWindow:
    """The last m gradients as an m x d matrix G (slot t mod m; empty rows are zero), and K."""

    DOTS = "fp32_gemv_to_fp64"

    def __init__(self, d, m, dtype, device):
        self.m = m
        self.G = torch.zeros(m, d, dtype=dtype, device=device)
        self.dots = torch.zeros(m, m, dtype=torch.float64, device=device)
        self.count = 0

    def insert(self, g):
        """Store g, w = G g by one GEMV, K's row and column; -> (g, w)."""
        s = self.count % self.m
        self.G[s] = g
        w = torch.mv(self.G, g).double()
        self.dots[s, :] = w
        self.dots[:, s] = w
        self.count += 1
        return g, w

    def combine(self, coef, g, lambd, per_row):
        """u = lambd g - G^T coef: one GEMV in both variants (the authors' partA - partB), so per_row is moot."""
        return torch.addmv(g, self.G.t(), coef.to(self.G.dtype), beta=lambd, alpha=-1)


def lu_upper(A):
    """U of A = LU without pivoting. torch has no unpivoted LU on the CPU; there (the --cpu self-check only) U comes
    from the Cholesky factor: A = R^T R gives U = diag(r) R with r = diag(R), the same U for an SPD A (doc §2.3)."""
    if A.is_cuda:
        return torch.triu(torch.linalg.lu_factor(A, pivot=False).LU)
    R = torch.linalg.cholesky(A, upper=True)
    return R.diagonal()[:, None] * R


def coef_authors(K, w, lambd, n):
    """The authors' setup and precondition (doc §2.3-2.4): LU of A = lambd K + n I without pivoting, p = diag(U),
    the coef recurrence B row by row, y = lambd L^-1 w, M = (y / p)^T B."""
    m = K.shape[0]
    eye = torch.eye(m, dtype=K.dtype, device=K.device)
    U = lu_upper(lambd * K + n * eye)
    p = U.diagonal()
    tmp = -(torch.triu(U, 1) / p[:, None]).T  # tmp[i][k] = -D[k][i] / p_k for k < i (D = U off the diagonal)
    B = lambd * eye
    for i in range(1, m):
        B[i, :i] = tmp[i, :i] @ B[:i, :i]
    # The authors run the forward recurrence in one kernel (hinv_mul); it is forward substitution with the unit
    # lower L = I - tmp, here in one call as well.
    y = torch.linalg.solve_triangular(eye - tmp, lambd * w[:, None], upper=False, unitriangular=True)[:, 0]
    return (y / p) @ B


def coef_cholesky(K, w, lambd, n):
    """The Woodbury form (doc §2.4): M = lambd^2 A^-1 w with A = lambd K + n I, by Cholesky (cholesky_ex: no error
    check, so no host synchronisation)."""
    A = lambd * K + n * torch.eye(K.shape[0], dtype=K.dtype, device=K.device)
    L = torch.linalg.cholesky_ex(A).L
    return lambd * lambd * torch.cholesky_solve(w[:, None], L)[:, 0]


COEFFICIENTS = {"authors_algorithm": coef_authors, "pytorch_best": coef_cholesky}


def step(window, g, variant, lambd):
    """One M-FAC direction: insert g, then u = F^-1 v for the inserted v, F = damp I + (1/m) sum_j x_j x_j^T."""
    v, w = window.insert(g)
    coef = COEFFICIENTS[variant](window.dots, w, lambd, window.m)
    return window.combine(coef, v, lambd, per_row=variant == "authors_algorithm")


# ---------------------------------------------------------------- self-check against the explicit inverse


def check_variant(kind, variant, dtype, damping, device):
    """Max over CHECK_AT of |u - u_ref| / |u_ref|, u_ref = (damping I + (1/m) sum_j x_j x_j^T)^-1 v in float64 from
    an independent window record (with its own EF + Top-k for the sparse kind)."""
    gen = torch.Generator(device=device)
    gen.manual_seed(7)
    if kind == "sparse":
        window = SparseWindow(CHECK_D, CHECK_M, CHECK_K, dtype, device)
    else:
        window = DenseWindow(CHECK_D, CHECK_M, dtype, device)
    error = torch.zeros(CHECK_D, dtype=dtype, device=device)
    xs = torch.zeros(CHECK_M, CHECK_D, dtype=torch.float64, device=device)
    eye = torch.eye(CHECK_D, dtype=torch.float64, device=device)
    worst = 0.0
    for t in range(max(CHECK_AT) + 1):
        g = torch.randn(CHECK_D, generator=gen, dtype=dtype, device=device)
        u = step(window, g, variant, 1 / damping)
        if kind == "sparse":
            a = error + g
            keep = torch.zeros(CHECK_D, dtype=torch.bool, device=device)
            keep[torch.topk(a.abs(), CHECK_K).indices] = True
            x = a * keep
            error = a - x
        else:
            x = g
        xs[t % CHECK_M] = x.double()
        if t in CHECK_AT:
            ref = torch.linalg.solve(damping * eye + xs.T @ xs / CHECK_M, x.double())
            worst = max(worst, (torch.linalg.norm(u.double() - ref) / torch.linalg.norm(ref)).item())
    return worst


def self_check(device, device_name):
    """Every kind x variant x CHECK_PRECISIONS against the explicit formula; raises if any is out of tolerance."""
    failed = []
    for dtype_name, damping in CHECK_PRECISIONS:
        for kind in ("sparse", "dense"):
            for variant in VARIANTS:
                err = check_variant(kind, variant, getattr(torch, dtype_name), damping, device)
                if not err <= CHECK_TOLERANCE:
                    failed.append(f"{kind} {variant} {dtype_name}")
                emit(bench="torch_self_check", kind=kind, variant=variant, device=device_name, dtype=dtype_name,
                     damping=damping, d=CHECK_D, m=CHECK_M, k=CHECK_K, steps=max(CHECK_AT) + 1,
                     max_rel_err=float(f"{err:.3e}"), tolerance=CHECK_TOLERANCE, ok=err <= CHECK_TOLERANCE)
    if failed:
        raise AssertionError(f"relative error above {CHECK_TOLERANCE}: {', '.join(failed)}")


# ---------------------------------------------------------------- benchmarks


def timed(fn, make_input, runs, warmups):
    """{median, p90, min}_ms of fn(make_input()) by CUDA events, each call started on an idle GPU and waited for."""
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    for _ in range(warmups):
        fn(make_input())
    ms = []
    for _ in range(runs):
        x = make_input()
        torch.cuda.synchronize()
        start.record()
        fn(x)
        end.record()
        end.synchronize()
        ms.append(start.elapsed_time(end))
    ms.sort()

    def quantile(q):  # nearest rank rounding half up, as GpuStepBench
        return round(ms[min(len(ms) - 1, int(q * (len(ms) - 1) + 0.5))], 4)

    return {"median_ms": quantile(0.5), "p90_ms": quantile(0.9), "min_ms": quantile(0.0)}


def lr_loss_and_gradient(X, y, W, b, minus_one):
    """Multinomial LR: Z = X W^T + b, loss = -sum log softmax(Z)_y, R = softmax(Z) - onehot(y), dW = R^T X, db."""
    logp = torch.log_softmax(torch.addmm(b, X, W.t()), dim=1)
    loss = -logp.gather(1, y[:, None]).sum()
    R = logp.exp_()
    R.scatter_add_(1, y[:, None], minus_one)
    return loss, R.t() @ X, R.sum(0)


def bench_lr(device_name):
    gen = torch.Generator(device=DEVICE)
    gen.manual_seed(1)
    X = torch.randn(LR_ROWS, LR_FEATURES, generator=gen, device=DEVICE)
    y = torch.randint(LR_CLASSES, (LR_ROWS,), generator=gen, device=DEVICE)
    W = 0.05 * torch.randn(LR_CLASSES, LR_FEATURES, generator=gen, device=DEVICE)
    b = 0.05 * torch.randn(LR_CLASSES, generator=gen, device=DEVICE)
    minus_one = torch.full((LR_ROWS, 1), -1.0, device=DEVICE)
    flop = 4.0 * LR_ROWS * LR_FEATURES * LR_CLASSES
    for precision in ("fp32", "tf32"):
        set_tf32(precision == "tf32")
        try:
            t = timed(lambda block: lr_loss_and_gradient(block, y, W, b, minus_one), lambda: X, LR_RUNS, LR_WARMUPS)
        finally:
            set_tf32(False)
        emit(bench="torch_lr_gradient", device=device_name, n=LR_ROWS, features=LR_FEATURES, classes=LR_CLASSES,
             precision=precision, **t, tflops=round(flop / t["median_ms"] / 1e9, 2), runs=LR_RUNS)


def bench_mfac(kind, device_name, steps):
    gen = torch.Generator(device=DEVICE)
    gen.manual_seed(1)

    def gradient():
        return torch.randn(D, generator=gen, device=DEVICE)

    if kind == "sparse":
        window, shape = SparseWindow(D, M, K, torch.float32, DEVICE), {"d": D, "m": M, "k": K}
    else:
        window, shape = DenseWindow(D, M, torch.float32, DEVICE), {"d": D, "m": M}
    # Fill by inserts alone: what a step costs depends on the filled window, not on how it was filled.
    for _ in range(M):
        window.insert(gradient())
    lambd = 1 / DAMPING
    for variant in VARIANTS:
        runs = steps if variant == "pytorch_best" else min(steps, AUTHORS_MAX_STEPS)
        t = timed(lambda g: step(window, g, variant, lambd), gradient, runs, STEP_WARMUPS[variant])
        emit(bench=f"torch_{kind}_mfac_step", variant=variant, device=device_name, **shape, damping=DAMPING,
             dtype="float32", mxm="float64", dots=window.DOTS, steps=runs, **t)


BENCHES = {
    "lr": lambda name, steps: bench_lr(name),
    "sparse": lambda name, steps: bench_mfac("sparse", name, steps),
    "dense": lambda name, steps: bench_mfac("dense", name, steps),
}


def run_part(part, fn, device_name):
    """fn(); if it raises, the traceback and an error line instead, so that the other parts still run.
    -> whether fn returned normally."""
    try:
        fn()
        return True
    except Exception as e:
        traceback.print_exc()
        emit(bench="torch_baseline", part=part, device=device_name, error=f"{type(e).__name__}: {e}")
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="lr,sparse,dense", help="comma-separated parts: lr, sparse, dense")
    parser.add_argument("--steps", type=int, default=50,
                        help=f"timed M-FAC steps per variant (the authors' variant at most {AUTHORS_MAX_STEPS})")
    parser.add_argument("--no-self-check", action="store_true", help="skip the self-check")
    parser.add_argument("--cpu", action="store_true", help="run only the self-check, on the CPU")
    args = parser.parse_args(argv)
    parts = [p for p in args.only.split(",") if p]
    unknown = [p for p in parts if p not in BENCHES]
    if unknown:
        parser.error(f"unknown --only parts {unknown}; choose from {sorted(BENCHES)}")
    if args.steps < 1:
        parser.error("--steps must be at least 1")

    if torch is None:
        emit(bench="torch_baseline", skipped="no torch")
        return 0
    if args.cpu:
        return 0 if run_part("self_check", lambda: self_check("cpu", "cpu"), "cpu") else 1
    if not torch.cuda.is_available():
        emit(bench="torch_baseline", skipped="no CUDA")
        return 0
    set_tf32(False)  # fp32 as the authors' code runs it (doc §7 P1); bench_lr turns TF32 on for its tf32 line only
    device_name = torch.cuda.get_device_name()
    ok = args.no_self_check or run_part("self_check", lambda: self_check(DEVICE, device_name), device_name)
    for part in parts:
        ok = run_part(part, lambda: BENCHES[part](device_name, args.steps), device_name) and ok
        torch.cuda.empty_cache()  # the dense window alone is 3.15 GB
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
