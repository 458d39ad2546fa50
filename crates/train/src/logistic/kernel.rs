//! The fused pass of the Newton solver: loss, gradient and Hessian of the objective in one
//! walk over the column-major training matrix.
//!
//! **Why fused and blocked.** At 100k × 40 the matrix is 32 MB: reading it from memory costs
//! about as much as the arithmetic of a gradient. The pass therefore takes the rows in blocks
//! of [`BLOCK`]: the block's slice of every column (40 × 2 KB) is read from memory once, while
//! computing the log-odds `z`, and stays in L2 for the gradient `Xᵀ r` and the Hessian
//! `Xᵀ diag(d) X` that follow. The Hessian is symmetric: only its lower triangle is
//! accumulated (`p (p + 1) / 2` dot products per block), four columns at a time so that each
//! load of `x_j ⊙ d` feeds four products.
//!
//! **Why fixed-size arrays.** Every sum runs in [`LANES`] independent accumulators over
//! fixed-size arrays, reduced in a fixed order. LLVM vectorises them (AVX2 where the CPU has
//! it: the pass runs inside `pulp`'s runtime dispatch; SSE2 otherwise), and since the order of
//! the additions is written in the code rather than chosen by the vector width, the result is
//! bit-for-bit the same on every x86-64 CPU.
//!
//! **Layout of the parameters.** `theta` holds the `p` weights, then the intercept; the
//! Hessian is `(p + 1)²` row-major with its lower triangle filled (row `p` is the intercept).

/// Rows per block: at 40 features a block's columns take 80 KB, well inside L2.
pub(super) const BLOCK: usize = 256;
/// Independent accumulators per sum (two AVX2 registers of `f64`).
const LANES: usize = 8;

/// A column-major matrix: column `j` is `data[j * rows..(j + 1) * rows]`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Columns<'a> {
    pub data: &'a [f64],
    pub rows: usize,
    pub cols: usize,
}

impl Columns<'_> {
    #[inline(always)]
    fn block(&self, j: usize, start: usize, len: usize) -> &[f64] {
        &self.data[j * self.rows + start..j * self.rows + start + len]
    }
}

/// What a pass computes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Want {
    /// The loss only (backtracking trials).
    Loss,
    /// Loss and gradient (a point expected to pass the convergence test).
    Gradient,
    /// Loss, gradient and Hessian.
    All,
}

/// The objective at one point, and the per-block scratch: allocated once per fit.
#[derive(Debug, Clone)]
pub(super) struct Eval {
    pub loss: f64,
    /// `p + 1` values, the intercept's last.
    pub grad: Vec<f64>,
    /// `(p + 1)²` row-major, lower triangle filled.
    pub hess: Vec<f64>,
    /// Whether `grad` and `hess` belong to the last pass.
    pub has_gradient: bool,
    pub has_hessian: bool,
    z: Vec<f64>,
    r: Vec<f64>,
    d: Vec<f64>,
    t: Vec<f64>,
}

impl Eval {
    pub(super) fn new(cols: usize) -> Eval {
        let m = cols + 1;
        Eval {
            loss: 0.0,
            grad: vec![0.0; m],
            hess: vec![0.0; m * m],
            has_gradient: false,
            has_hessian: false,
            z: vec![0.0; BLOCK],
            r: vec![0.0; BLOCK],
            d: vec![0.0; BLOCK],
            t: vec![0.0; BLOCK],
        }
    }
}

/// Summed log loss of `y` (0 or 1) at `theta`, plus `alpha / 2 · ‖w‖²`; with [`Want::All`]
/// also its gradient and Hessian. Non-finite inputs give a non-finite loss.
pub(super) fn evaluate(
    x: Columns<'_>,
    y: &[f64],
    theta: &[f64],
    alpha: f64,
    want: Want,
    out: &mut Eval,
) {
    pulp::Arch::new().dispatch(Pass {
        x,
        y,
        theta,
        alpha,
        want,
        out,
    });
}

/// The pass as `pulp` dispatches it: `with_simd` is compiled once per instruction set with
/// the whole pass inlined into it. (Through a closure, the pass was compiled outside the
/// AVX2 function and ran on SSE2, at half the speed.)
struct Pass<'a> {
    x: Columns<'a>,
    y: &'a [f64],
    theta: &'a [f64],
    alpha: f64,
    want: Want,
    out: &'a mut Eval,
}

impl pulp::WithSimd for Pass<'_> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        evaluate_inner(self.x, self.y, self.theta, self.alpha, self.want, self.out);
    }
}

#[inline(always)]
fn evaluate_inner(
    x: Columns<'_>,
    y: &[f64],
    theta: &[f64],
    alpha: f64,
    want: Want,
    out: &mut Eval,
) {
    let (n, p) = (x.rows, x.cols);
    let m = p + 1;
    let (w, b) = (&theta[..p], theta[p]);
    let mut loss = 0.0;
    out.grad.fill(0.0);
    if want == Want::All {
        out.hess.fill(0.0);
    }
    let mut start = 0;
    while start < n {
        let len = BLOCK.min(n - start);
        let z = &mut out.z[..len];
        z.fill(b);
        for (j, &wj) in w.iter().enumerate() {
            for (zi, xi) in z.iter_mut().zip(x.block(j, start, len)) {
                *zi += wj * xi;
            }
        }
        let (r, d) = (&mut out.r[..len], &mut out.d[..len]);
        for (i, (&zi, &yi)) in z.iter().zip(&y[start..start + len]).enumerate() {
            // log(1 + e^z) - y z, and p = σ(z), d = p (1 - p), all from e = exp(-|z|).
            let e = (-zi.abs()).exp();
            loss += zi.max(0.0) + e.ln_1p() - yi * zi;
            let one_plus = 1.0 + e;
            let prob = if zi >= 0.0 { 1.0 } else { e } / one_plus;
            r[i] = prob - yi;
            d[i] = e / (one_plus * one_plus);
        }
        if want != Want::Loss {
            for (j, g) in out.grad[..p].iter_mut().enumerate() {
                *g += dot(x.block(j, start, len), r);
            }
            out.grad[p] += sum(r);
        }
        if want == Want::All {
            hessian_block(x, start, len, d, &mut out.t[..len], &mut out.hess, m);
        }
        start += len;
    }
    let penalty: f64 = w.iter().map(|v| v * v).sum();
    out.loss = loss + 0.5 * alpha * penalty;
    out.has_gradient = want != Want::Loss;
    out.has_hessian = want == Want::All;
    if out.has_gradient {
        for (j, &wj) in w.iter().enumerate() {
            out.grad[j] += alpha * wj;
        }
    }
    if out.has_hessian {
        for j in 0..p {
            out.hess[j * m + j] += alpha;
        }
    }
}

/// Adds one block's `Xᵀ diag(d) X` (lower triangle, intercept row last) into `hess`.
#[inline(always)]
fn hessian_block(
    x: Columns<'_>,
    start: usize,
    len: usize,
    d: &[f64],
    t: &mut [f64],
    hess: &mut [f64],
    m: usize,
) {
    let p = x.cols;
    for j in 0..p {
        for ((ti, xi), di) in t.iter_mut().zip(x.block(j, start, len)).zip(d) {
            *ti = xi * di;
        }
        let row = &mut hess[j * m..j * m + j + 1];
        let mut k = 0;
        while k + 4 <= j + 1 {
            let sums = dot4(
                t,
                [
                    x.block(k, start, len),
                    x.block(k + 1, start, len),
                    x.block(k + 2, start, len),
                    x.block(k + 3, start, len),
                ],
            );
            for (h, s) in row[k..k + 4].iter_mut().zip(sums) {
                *h += s;
            }
            k += 4;
        }
        for (kk, h) in row.iter_mut().enumerate().skip(k) {
            *h += dot(t, x.block(kk, start, len));
        }
        // The intercept's row: Σ d x_j.
        hess[p * m + j] += sum(t);
    }
    hess[p * m + p] += sum(d);
}

/// `Σ a_i b_i` in [`LANES`] accumulators, then the tail.
#[inline(always)]
fn dot(a: &[f64], b: &[f64]) -> f64 {
    let mut acc = [0.0; LANES];
    let (ac, bc) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let (ar, br) = (ac.remainder(), bc.remainder());
    for (x, y) in ac.zip(bc) {
        for l in 0..LANES {
            acc[l] += x[l] * y[l];
        }
    }
    reduce(acc) + ar.iter().zip(br).map(|(x, y)| x * y).sum::<f64>()
}

/// Four dot products of `t` with four columns, sharing the loads of `t`.
#[inline(always)]
fn dot4(t: &[f64], [c0, c1, c2, c3]: [&[f64]; 4]) -> [f64; 4] {
    let mut acc = [[0.0; LANES]; 4];
    let chunks = t
        .chunks_exact(LANES)
        .zip(c0.chunks_exact(LANES))
        .zip(c1.chunks_exact(LANES))
        .zip(c2.chunks_exact(LANES))
        .zip(c3.chunks_exact(LANES));
    for ((((tt, a0), a1), a2), a3) in chunks {
        for l in 0..LANES {
            acc[0][l] += tt[l] * a0[l];
            acc[1][l] += tt[l] * a1[l];
            acc[2][l] += tt[l] * a2[l];
            acc[3][l] += tt[l] * a3[l];
        }
    }
    let full = t.len() / LANES * LANES;
    let tail = |c: &[f64]| -> f64 { t[full..].iter().zip(&c[full..]).map(|(x, y)| x * y).sum() };
    [
        reduce(acc[0]) + tail(c0),
        reduce(acc[1]) + tail(c1),
        reduce(acc[2]) + tail(c2),
        reduce(acc[3]) + tail(c3),
    ]
}

#[inline(always)]
fn sum(a: &[f64]) -> f64 {
    let mut acc = [0.0; LANES];
    let chunks = a.chunks_exact(LANES);
    let tail: f64 = chunks.remainder().iter().sum();
    for x in chunks {
        for l in 0..LANES {
            acc[l] += x[l];
        }
    }
    reduce(acc) + tail
}

/// Pairwise, in a fixed order.
#[inline(always)]
fn reduce(a: [f64; LANES]) -> f64 {
    ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// The objective written row by row from its definition (no blocks, no lanes).
    fn naive(
        x: &[f64],
        n: usize,
        p: usize,
        y: &[f64],
        theta: &[f64],
        alpha: f64,
    ) -> (f64, Vec<f64>, Vec<f64>) {
        let m = p + 1;
        let (mut loss, mut g, mut h) = (0.0, vec![0.0; m], vec![0.0; m * m]);
        for i in 0..n {
            let row: Vec<f64> = (0..p).map(|j| x[j * n + i]).chain([1.0]).collect();
            let z: f64 = row.iter().zip(theta).map(|(a, b)| a * b).sum();
            let prob = 1.0 / (1.0 + (-z).exp());
            loss += -(y[i] * prob.ln() + (1.0 - y[i]) * (1.0 - prob).ln());
            for a in 0..m {
                g[a] += (prob - y[i]) * row[a];
                for b in 0..=a {
                    h[a * m + b] += prob * (1.0 - prob) * row[a] * row[b];
                }
            }
        }
        for j in 0..p {
            loss += 0.5 * alpha * theta[j] * theta[j];
            g[j] += alpha * theta[j];
            h[j * m + j] += alpha;
        }
        (loss, g, h)
    }

    /// Blocks, lanes, the four-column products and their tails (odd row and column counts
    /// across block boundaries) against the definition.
    #[test]
    fn fused_pass_matches_the_definition() {
        let mut rng = StdRng::seed_from_u64(3);
        for (n, p) in [(1, 1), (7, 3), (BLOCK + 13, 6), (3 * BLOCK - 1, 9)] {
            let x: Vec<f64> = (0..n * p).map(|_| rng.random_range(-2.0..2.0)).collect();
            let y: Vec<f64> = (0..n).map(|_| f64::from(rng.random::<bool>())).collect();
            let theta: Vec<f64> = (0..=p).map(|_| rng.random_range(-1.0..1.0)).collect();
            let cols = Columns {
                data: &x,
                rows: n,
                cols: p,
            };
            let mut eval = Eval::new(p);
            evaluate(cols, &y, &theta, 0.7, Want::All, &mut eval);
            let (loss, g, h) = naive(&x, n, p, &y, &theta, 0.7);
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-10 * (1.0 + b.abs());
            assert!(close(eval.loss, loss), "{n}x{p}: {} vs {loss}", eval.loss);
            for (a, b) in eval.grad.iter().zip(&g) {
                assert!(close(*a, *b), "{n}x{p} gradient: {a} vs {b}");
            }
            for a in 0..=p {
                for b in 0..=a {
                    let (got, want) = (eval.hess[a * (p + 1) + b], h[a * (p + 1) + b]);
                    assert!(close(got, want), "{n}x{p} H[{a}][{b}]: {got} vs {want}");
                }
            }
            let (all, grad) = (eval.loss, eval.grad.clone());
            evaluate(cols, &y, &theta, 0.7, Want::Gradient, &mut eval);
            assert_eq!(
                (eval.loss, &eval.grad),
                (all, &grad),
                "the same loss and gradient"
            );
            assert!(!eval.has_hessian);
            evaluate(cols, &y, &theta, 0.7, Want::Loss, &mut eval);
            assert_eq!(eval.loss, all, "the loss-only pass gives the same loss");
        }
    }

    /// Extreme log-odds: no overflow, no NaN, the loss of a confident mistake is |z|.
    #[test]
    fn saturated_log_odds_stay_finite() {
        let x = [1.0, -1.0];
        let cols = Columns {
            data: &x,
            rows: 2,
            cols: 1,
        };
        let mut eval = Eval::new(1);
        evaluate(cols, &[0.0, 0.0], &[800.0, 0.0], 0.0, Want::All, &mut eval);
        assert!((eval.loss - 800.0).abs() < 1e-9, "{}", eval.loss);
        assert!(eval.grad.iter().chain(&eval.hess).all(|v| v.is_finite()));
    }
}
