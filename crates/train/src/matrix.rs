//! The training matrix, stored column-major.
//!
//! linfa-logistic's gradient computes `X.t().dot(v)`. ndarray without a BLAS evaluates a
//! matrix-vector product row by row of its left operand, so with a row-major `X` every row of
//! `X.t()` is a strided column and each gradient step walks the whole matrix once per feature.
//! Storing `X` column-major makes those rows contiguous (and `X.dot(w)` goes through
//! matrixmultiply's GEMM, which is layout-agnostic): see `benches/fit.rs` for the effect.

use ndarray::{Array2, ShapeBuilder};

/// Builds a column-major `f64` matrix from the encoder's row-major `f32` output.
pub fn column_major(x: &[f32], rows: usize, cols: usize) -> Array2<f64> {
    debug_assert_eq!(x.len(), rows * cols);
    Array2::from_shape_fn((rows, cols).f(), |(i, j)| f64::from(x[i * cols + j]))
}

/// Selects `rows` of a row-major matrix into a new column-major one.
pub fn select_rows(x: &[f32], cols: usize, rows: &[usize]) -> Array2<f64> {
    Array2::from_shape_fn((rows.len(), cols).f(), |(i, j)| {
        f64::from(x[rows[i] * cols + j])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_hold_the_same_values() {
        let x = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let m = column_major(&x, 3, 2);
        assert_eq!(m[[2, 1]], 6.0);
        assert!(m.t().is_standard_layout(), "rows of X.t() are contiguous");
        let s = select_rows(&x, 2, &[2, 0]);
        assert_eq!(s.row(0).to_vec(), vec![5.0, 6.0]);
        assert_eq!(s.row(1).to_vec(), vec![1.0, 2.0]);
    }
}
