//! Solving the Newton system `H d = -g` by a Cholesky factorisation, in place.
//!
//! **Why hand-written rather than faer.** The system is `(p + 1)²` with `p` at most
//! [`super::NEWTON_MAX_FEATURES`]: factorising it costs `p³ / 6` multiply-adds, under 1% of
//! the `n p² / 2` of the Hessian pass that precedes it at any `n` worth a Newton solver, so a
//! tuned dense kernel buys nothing measurable here. What matters is deciding, reliably and
//! without a panic, when the matrix is not numerically positive definite (no L2 and
//! collinear columns, or saturated probabilities): the textbook column algorithm below stops
//! at the first pivot that lost all but 1e-12 of its diagonal, and says which column. faer
//! would add its dependency tree to every build for the same 30 lines.

/// The Hessian is not numerically positive definite: column `column`'s pivot is `pivot`
/// after elimination, of a diagonal `diagonal`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NotPositiveDefinite {
    pub column: usize,
    pub pivot: f64,
    pub diagonal: f64,
}

/// A pivot must keep more than this share of its diagonal entry.
const RELATIVE_PIVOT: f64 = 1e-12;

/// Factorises the `m × m` row-major matrix `a` (lower triangle read) into `L Lᵀ`, overwriting
/// the lower triangle with `L`.
pub(super) fn factorize(a: &mut [f64], m: usize) -> Result<(), NotPositiveDefinite> {
    for j in 0..m {
        let diagonal = a[j * m + j];
        let pivot = diagonal - a[j * m..j * m + j].iter().map(|v| v * v).sum::<f64>();
        // `!(>)` also catches NaN.
        if !(pivot > RELATIVE_PIVOT * diagonal.abs() && pivot.is_finite()) {
            return Err(NotPositiveDefinite {
                column: j,
                pivot,
                diagonal,
            });
        }
        let l_jj = pivot.sqrt();
        a[j * m + j] = l_jj;
        for i in j + 1..m {
            let (upper, lower) = a.split_at_mut(i * m);
            let row_j = &upper[j * m..j * m + j];
            let row_i = &mut lower[..=j];
            let s: f64 = row_i[..j].iter().zip(row_j).map(|(x, y)| x * y).sum();
            row_i[j] = (row_i[j] - s) / l_jj;
        }
    }
    Ok(())
}

/// Solves `L Lᵀ x = b` in place of `b`, with `l` from [`factorize`].
pub(super) fn solve(l: &[f64], m: usize, b: &mut [f64]) {
    for i in 0..m {
        let s: f64 = l[i * m..i * m + i]
            .iter()
            .zip(&b[..i])
            .map(|(x, y)| x * y)
            .sum();
        b[i] = (b[i] - s) / l[i * m + i];
    }
    for i in (0..m).rev() {
        let s: f64 = (i + 1..m).map(|k| l[k * m + i] * b[k]).sum();
        b[i] = (b[i] - s) / l[i * m + i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::StdRng;
    use rand::{RngExt, SeedableRng};

    /// A random `B Bᵀ + I` is solved to rounding: `A x` gives back `b`.
    #[test]
    fn solves_random_positive_definite_systems() {
        let mut rng = StdRng::seed_from_u64(5);
        for m in [1, 2, 5, 17, 41] {
            let bm: Vec<f64> = (0..m * m).map(|_| rng.random_range(-1.0..1.0)).collect();
            let mut a = vec![0.0; m * m];
            for i in 0..m {
                for j in 0..m {
                    a[i * m + j] = (0..m).map(|k| bm[i * m + k] * bm[j * m + k]).sum::<f64>()
                        + if i == j { 1.0 } else { 0.0 };
                }
            }
            let rhs: Vec<f64> = (0..m).map(|_| rng.random_range(-5.0..5.0)).collect();
            let mut l = a.clone();
            factorize(&mut l, m).expect("positive definite");
            let mut x = rhs.clone();
            solve(&l, m, &mut x);
            for i in 0..m {
                let back: f64 = (0..m).map(|j| a[i * m + j] * x[j]).sum();
                assert!(
                    (back - rhs[i]).abs() < 1e-9,
                    "m {m}, row {i}: {back} vs {}",
                    rhs[i]
                );
            }
        }
    }

    /// Two equal columns (no L2): the second pivot vanishes and the error names it.
    #[test]
    fn a_singular_matrix_is_an_error_naming_the_column() {
        let mut a = vec![2.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0];
        let err = factorize(&mut a, 3).expect_err("singular");
        assert_eq!(err.column, 2, "{err:?}");
        let mut nan = vec![f64::NAN];
        assert!(factorize(&mut nan, 1).is_err());
    }
}
