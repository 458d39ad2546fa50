//! Gauss–Legendre quadrature on `[0, 1]`: `n` nodes and weights that integrate every
//! polynomial of degree `< 2n` exactly.
//!
//! Why hand-written: [`super::TreeShap`] needs one rule per tree depth, computed once per
//! bundle, for `n` up to half the deepest path. Newton's method on the three-term Legendre
//! recurrence gives nodes and weights to a few ulps for any `n` in a few lines; the crate
//! that packages this (`gauss-quad`) solves an eigenproblem through nalgebra, a large
//! dependency for a table of a few dozen numbers. The unit tests hold the rule to exact
//! integrals of monomials and to published nodes.

/// Nodes `t` (ascending, inside `(0, 1)`) and positive weights `w` (summing to 1) of the
/// `n`-point rule: `Σ w[m] p(t[m]) = ∫₀¹ p(t) dt` for every polynomial `p` of degree `< 2n`.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub t: Vec<f64>,
    /// `1 - t`, computed once.
    pub one_minus_t: Vec<f64>,
    pub w: Vec<f64>,
}

impl Rule {
    /// The `n`-point rule (`n ≥ 1`; 0 is taken as 1).
    pub fn new(n: usize) -> Rule {
        let n = n.max(1);
        let mut t = vec![0.0; n];
        let mut w = vec![0.0; n];
        let nf = n as f64;
        for i in 0..n.div_ceil(2) {
            // The i-th largest root of P_n on [-1, 1]: Tricomi's estimate, then Newton.
            let mut z = (std::f64::consts::PI * (i as f64 + 0.75) / (nf + 0.5)).cos();
            for _ in 0..100 {
                let (p, d) = legendre(n, z);
                let step = p / d;
                z -= step;
                if step.abs() <= 1e-16 {
                    break;
                }
            }
            let dp = legendre(n, z).1;
            let weight = 2.0 / ((1.0 - z * z) * dp * dp);
            // Map [-1, 1] to [0, 1]: t = (1 + x) / 2, w = weight / 2.
            t[n - 1 - i] = 0.5 * (1.0 + z);
            t[i] = 0.5 * (1.0 - z);
            w[n - 1 - i] = 0.5 * weight;
            w[i] = 0.5 * weight;
        }
        // The rule is symmetric about ½, so 1 - t is t reversed (exactly, unlike 1.0 - t).
        let one_minus_t = t.iter().rev().copied().collect();
        Rule { t, one_minus_t, w }
    }

    /// Number of nodes.
    pub fn len(&self) -> usize {
        self.t.len()
    }

    /// Never true: a rule has at least one node.
    pub fn is_empty(&self) -> bool {
        self.t.is_empty()
    }
}

/// `(P_n(z), P_n'(z))` by the recurrence `k P_k = (2k - 1) z P_{k-1} - (k - 1) P_{k-2}`.
fn legendre(n: usize, z: f64) -> (f64, f64) {
    let (mut p0, mut p1) = (1.0, z);
    for k in 2..=n {
        let k = k as f64;
        let p2 = ((2.0 * k - 1.0) * z * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = p2;
    }
    let nf = n as f64;
    let derivative = nf * (z * p1 - p0) / (z * z - 1.0);
    (p1, derivative)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integrates_polynomials_of_degree_below_2n_exactly() {
        for n in 1..=40 {
            let rule = Rule::new(n);
            assert_eq!(rule.len(), n);
            assert!(
                rule.t.windows(2).all(|p| p[0] < p[1]),
                "n = {n}: nodes ascend"
            );
            assert!(rule.t.iter().all(|&t| t > 0.0 && t < 1.0));
            assert!(rule.w.iter().all(|&w| w > 0.0));
            for degree in 0..2 * n {
                let got: f64 = rule
                    .t
                    .iter()
                    .zip(&rule.w)
                    .map(|(&t, &w)| w * t.powi(degree as i32))
                    .sum();
                let exact = 1.0 / (degree as f64 + 1.0);
                assert!(
                    (got - exact).abs() < 1e-14,
                    "n = {n}, ∫ t^{degree}: {got} vs {exact}"
                );
            }
        }
    }

    #[test]
    fn matches_published_nodes() {
        // The 1-, 2- and 3-point rules on [-1, 1]: 0 (weight 2); ±1/√3 (1 each);
        // 0 (8/9) and ±√(3/5) (5/9 each).
        let one = Rule::new(1);
        assert_eq!((one.t, one.w), (vec![0.5], vec![1.0]));
        let two = Rule::new(2);
        let x = 1.0 / 3f64.sqrt();
        assert!((two.t[0] - 0.5 * (1.0 - x)).abs() < 1e-15);
        assert!((two.w[1] - 0.5).abs() < 1e-15);
        let three = Rule::new(3);
        let x = (0.6f64).sqrt();
        assert!((three.t[2] - 0.5 * (1.0 + x)).abs() < 1e-15);
        assert!((three.t[1] - 0.5).abs() < 1e-15);
        assert!((three.w[1] - 4.0 / 9.0).abs() < 1e-15);
        assert!((three.w[0] - 5.0 / 18.0).abs() < 1e-15);
    }
}
