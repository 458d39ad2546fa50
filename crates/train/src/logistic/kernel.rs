//! The fused pass of the Newton solver: loss, gradient and Hessian of the objective in one
//! walk over the column-major training matrix.
//!
//! **Why fused and blocked.** At 100k × 40 the matrix is 32 MB: reading it from memory costs
//! about as much as the arithmetic of a gradient. The pass therefore takes the rows in blocks
//! of [`BLOCK`]: the block's slice of every column (40 × 512 bytes) is read from memory once, while
//! computing the log-odds `z`, and stays in cache for the gradient `Xᵀ r` and the Hessian
//! `Xᵀ diag(d) X` that follow. The Hessian is symmetric: only its lower triangle is
//! accumulated, in tiles of up to four columns so that each load of `x_j ⊙ d` feeds four
//! multiply-adds.
//!
//! **Why lanes, and why the result does not depend on the CPU.** Every sum runs in eight
//! lanes ([`super::lanes`]): lane `l` adds the rows `i ≡ l (mod 8)` in row order, across all
//! blocks, with fused multiply-adds, and the eight lanes are summed once at the end, in a
//! fixed order. The pass is written once against [`Lanes`] and compiled for AVX2 + FMA (two
//! 256-bit registers per vector, used where the CPU has them, through `pulp`'s token) and for
//! plain scalars (elsewhere); both do the same operations on every lane, so the result is the
//! same to the bit whichever runs, and whatever [`BLOCK`] is. A block shorter than a multiple
//! of eight rows (the last) is copied into zero-padded scratch; its padding rows get `r = d =
//! 0` and no loss, so they add exact zeros.
//!
//! **Layout of the parameters.** `theta` holds the `p` weights, then the intercept; the
//! Hessian is `(p + 1)²` row-major with its lower triangle filled (row `p` is the intercept).

use super::lanes::{Chunk, LANES, Lanes, Portable, reduce};

/// Rows per block: at 40 features a block's columns take 20 KB, so the Hessian's tiles read
/// them from L1 (measured at 100k × 40: 256 rows, in L2, took 63 ms a fit; 128, 49 ms; 64,
/// 46 ms; 32, 53 ms, the tiles' set-up then dominating).
pub(super) const BLOCK: usize = 64;
const CHUNKS: usize = BLOCK / LANES;

/// A column-major matrix: column `j` is `data[j * rows..(j + 1) * rows]`.
#[derive(Debug, Clone, Copy)]
pub(super) struct Columns<'a> {
    pub data: &'a [f64],
    pub rows: usize,
    pub cols: usize,
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

/// The objective at one point, and the pass's scratch: allocated once per fit.
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
    scratch: Scratch,
}

/// Per-block vectors and the lane accumulators of the gradient and Hessian.
#[derive(Debug, Clone)]
struct Scratch {
    z: Vec<Chunk>,
    r: Vec<Chunk>,
    d: Vec<Chunk>,
    t: Vec<Chunk>,
    /// The last block's columns, zero-padded to a multiple of [`LANES`] rows.
    pad: Vec<f64>,
    grad: Vec<Chunk>,
    hess: Vec<Chunk>,
}

impl Eval {
    pub(super) fn new(cols: usize) -> Eval {
        let m = cols + 1;
        let zero = [0.0; LANES];
        Eval {
            loss: 0.0,
            grad: vec![0.0; m],
            hess: vec![0.0; m * m],
            has_gradient: false,
            has_hessian: false,
            scratch: Scratch {
                z: vec![zero; CHUNKS],
                r: vec![zero; CHUNKS],
                d: vec![zero; CHUNKS],
                t: vec![zero; CHUNKS],
                pad: vec![0.0; cols * BLOCK],
                grad: vec![zero; m],
                hess: vec![zero; m * m],
            },
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
    #[cfg(target_arch = "x86_64")]
    if let Some(simd) = pulp::x86::V3::try_new() {
        return pulp::Simd::vectorize(
            simd,
            Pass {
                lanes: super::lanes::Avx2(simd),
                x,
                y,
                theta,
                alpha,
                want,
                out,
            },
        );
    }
    evaluate_with(Portable, x, y, theta, alpha, want, out);
}

/// The pass as `pulp` runs it: `with_simd` is compiled inside the AVX2 function with the
/// whole pass inlined into it, so that the vector operations of [`Lanes`] become
/// instructions rather than calls.
struct Pass<'a, L> {
    lanes: L,
    x: Columns<'a>,
    y: &'a [f64],
    theta: &'a [f64],
    alpha: f64,
    want: Want,
    out: &'a mut Eval,
}

impl<L: Lanes> pulp::WithSimd for Pass<'_, L> {
    type Output = ();

    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, _simd: S) {
        evaluate_with(
            self.lanes, self.x, self.y, self.theta, self.alpha, self.want, self.out,
        );
    }
}

/// One block's rows of every column, each a whole number of [`Chunk`]s.
#[derive(Clone, Copy)]
struct Block<'a> {
    data: &'a [f64],
    stride: usize,
    offset: usize,
    len: usize,
}

impl<'a> Block<'a> {
    #[inline(always)]
    fn col(&self, j: usize) -> &'a [Chunk] {
        let start = j * self.stride + self.offset;
        pulp::as_arrays::<LANES, f64>(&self.data[start..start + self.len]).0
    }
}

#[inline(always)]
fn evaluate_with<L: Lanes>(
    lanes: L,
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
    let s = &mut out.scratch;
    let mut loss = 0.0;
    s.grad.fill([0.0; LANES]);
    if want == Want::All {
        s.hess.fill([0.0; LANES]);
    }
    let mut start = 0;
    while start < n {
        let len = BLOCK.min(n - start);
        let padded = len.div_ceil(LANES) * LANES;
        let block = if padded == len {
            Block {
                data: x.data,
                stride: n,
                offset: start,
                len,
            }
        } else {
            for j in 0..p {
                let col = &mut s.pad[j * padded..(j + 1) * padded];
                col[..len].copy_from_slice(&x.data[j * n + start..j * n + start + len]);
                col[len..].fill(0.0);
            }
            Block {
                data: &s.pad,
                stride: padded,
                offset: 0,
                len: padded,
            }
        };
        let chunks = padded / LANES;
        let z = &mut s.z[..chunks];
        log_odds(lanes, block, w, b, z);
        let (r, d) = (&mut s.r[..chunks], &mut s.d[..chunks]);
        let (r, d) = (r.as_flattened_mut(), d.as_flattened_mut());
        for (i, (&zi, &yi)) in z
            .as_flattened()
            .iter()
            .zip(&y[start..start + len])
            .enumerate()
        {
            // log(1 + e^z) - y z, and p = σ(z), d = p (1 - p), all from e = exp(-|z|).
            let e = (-zi.abs()).exp();
            loss += zi.max(0.0) + e.ln_1p() - yi * zi;
            let one_plus = 1.0 + e;
            let prob = if zi >= 0.0 { 1.0 } else { e } / one_plus;
            r[i] = prob - yi;
            d[i] = e / (one_plus * one_plus);
        }
        r[len..].fill(0.0);
        d[len..].fill(0.0);
        if want != Want::Loss {
            let (r, d) = (&s.r[..chunks], &s.d[..chunks]);
            let t = &mut s.t[..chunks];
            columns_block(lanes, block, r, d, t, want, &mut s.grad, &mut s.hess, m);
        }
        start += len;
    }
    let penalty: f64 = w.iter().map(|v| v * v).sum();
    out.loss = loss + 0.5 * alpha * penalty;
    out.has_gradient = want != Want::Loss;
    out.has_hessian = want == Want::All;
    if out.has_gradient {
        for (g, acc) in out.grad.iter_mut().zip(&s.grad) {
            *g = reduce(*acc);
        }
        for (j, &wj) in w.iter().enumerate() {
            out.grad[j] += alpha * wj;
        }
    }
    if out.has_hessian {
        for j in 0..m {
            for k in 0..=j {
                out.hess[j * m + k] = reduce(s.hess[j * m + k]);
            }
        }
        for j in 0..p {
            out.hess[j * m + j] += alpha;
        }
    }
}

/// `z = b + Σ_j w_j x_j` over one block.
#[inline(always)]
fn log_odds<L: Lanes>(lanes: L, block: Block<'_>, w: &[f64], b: f64, z: &mut [Chunk]) {
    z.fill(lanes.store(lanes.splat(b)));
    for (j, &wj) in w.iter().enumerate() {
        let wj = lanes.splat(wj);
        for (zc, xc) in z.iter_mut().zip(block.col(j)) {
            *zc = lanes.store(lanes.mul_add(wj, lanes.load(xc), lanes.load(zc)));
        }
    }
}

/// Adds one block's gradient `Xᵀ r` into the lanes of `grad`, and with [`Want::All`] its
/// `Xᵀ diag(d) X` (lower triangle, intercept row last) into the lanes of `hess`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn columns_block<L: Lanes>(
    lanes: L,
    block: Block<'_>,
    r: &[Chunk],
    d: &[Chunk],
    t: &mut [Chunk],
    want: Want,
    grad: &mut [Chunk],
    hess: &mut [Chunk],
    m: usize,
) {
    let p = m - 1;
    for j in 0..p {
        let xj = block.col(j);
        let mut g = lanes.load(&grad[j]);
        if want == Want::All {
            // t = x_j ⊙ d, and the intercept's row Σ d x_j, in the same sweep.
            let mut st = lanes.load(&hess[p * m + j]);
            for ((tc, xc), (rc, dc)) in t.iter_mut().zip(xj).zip(r.iter().zip(d)) {
                let xv = lanes.load(xc);
                g = lanes.mul_add(xv, lanes.load(rc), g);
                let tv = lanes.mul(xv, lanes.load(dc));
                st = lanes.add(st, tv);
                *tc = lanes.store(tv);
            }
            hess[p * m + j] = lanes.store(st);
            let row = &mut hess[j * m..j * m + j + 1];
            let mut k = 0;
            while k + 4 <= j + 1 {
                let cols = [k, k + 1, k + 2, k + 3].map(|c| block.col(c));
                tile(lanes, t, cols, &mut row[k..k + 4]);
                k += 4;
            }
            match j + 1 - k {
                1 => tile(lanes, t, [block.col(k)], &mut row[k..]),
                2 => tile(lanes, t, [k, k + 1].map(|c| block.col(c)), &mut row[k..]),
                3 => tile(
                    lanes,
                    t,
                    [k, k + 1, k + 2].map(|c| block.col(c)),
                    &mut row[k..],
                ),
                _ => {}
            }
        } else {
            for (xc, rc) in xj.iter().zip(r) {
                g = lanes.mul_add(lanes.load(xc), lanes.load(rc), g);
            }
        }
        grad[j] = lanes.store(g);
    }
    let mut gb = lanes.load(&grad[p]);
    for rc in r {
        gb = lanes.add(gb, lanes.load(rc));
    }
    grad[p] = lanes.store(gb);
    if want == Want::All {
        let mut sd = lanes.load(&hess[p * m + p]);
        for dc in d {
            sd = lanes.add(sd, lanes.load(dc));
        }
        hess[p * m + p] = lanes.store(sd);
    }
}

/// `acc[q] += t ⊙ cols[q]` lane by lane for `N` columns: the accumulators stay in registers
/// while each load of `t` feeds `N` multiply-adds.
#[inline(always)]
fn tile<L: Lanes, const N: usize>(lanes: L, t: &[Chunk], cols: [&[Chunk]; N], acc: &mut [Chunk]) {
    let cols = cols.map(|c| &c[..t.len()]);
    let mut a: [L::V; N] = std::array::from_fn(|q| lanes.load(&acc[q]));
    for (i, tc) in t.iter().enumerate() {
        let tv = lanes.load(tc);
        for q in 0..N {
            a[q] = lanes.mul_add(tv, lanes.load(&cols[q][i]), a[q]);
        }
    }
    for (q, v) in a.into_iter().enumerate() {
        acc[q] = lanes.store(v);
    }
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

    /// A random problem: `n × p` column-major values in `(-scale, scale)`, 0/1 labels and
    /// parameters in `(-1, 1)` (intercept last).
    fn problem(rng: &mut StdRng, n: usize, p: usize, scale: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let x = (0..n * p)
            .map(|_| rng.random_range(-scale..scale))
            .collect();
        let y = (0..n).map(|_| f64::from(rng.random::<bool>())).collect();
        let theta = (0..=p).map(|_| rng.random_range(-1.0..1.0)).collect();
        (x, y, theta)
    }

    /// Blocks, lanes, the four-column products and their tails (odd row and column counts
    /// across block boundaries) against the definition.
    #[test]
    fn fused_pass_matches_the_definition() {
        let mut rng = StdRng::seed_from_u64(3);
        for (n, p) in [(1, 1), (7, 3), (BLOCK + 13, 6), (3 * BLOCK - 1, 9)] {
            let (x, y, theta) = problem(&mut rng, n, p, 2.0);
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

    /// The vector path that `evaluate` dispatches to and the scalar fallback give the same
    /// bits, for every kind of pass, tile width (p = 9 gives tails of 1 to 3 columns) and
    /// padded last block.
    #[test]
    fn vector_and_portable_paths_agree_to_the_bit() {
        let mut rng = StdRng::seed_from_u64(5);
        for (n, p) in [(5, 2), (BLOCK * 3 + 7, 9), (1000, 13)] {
            let (x, y, theta) = problem(&mut rng, n, p, 3.0);
            let cols = Columns {
                data: &x,
                rows: n,
                cols: p,
            };
            for want in [Want::Loss, Want::Gradient, Want::All] {
                let (mut fast, mut slow) = (Eval::new(p), Eval::new(p));
                evaluate(cols, &y, &theta, 0.3, want, &mut fast);
                evaluate_with(Portable, cols, &y, &theta, 0.3, want, &mut slow);
                assert_eq!(fast.loss.to_bits(), slow.loss.to_bits(), "{n}x{p} {want:?}");
                let bits = |v: &[f64]| v.iter().map(|a| a.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&fast.grad), bits(&slow.grad), "{n}x{p} {want:?}");
                assert_eq!(bits(&fast.hess), bits(&slow.hess), "{n}x{p} {want:?}");
            }
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
