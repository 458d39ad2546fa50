//! Eight-lane vectors of `f64` for the fused pass ([`super::kernel`]), written once against
//! [`Lanes`] and compiled for two implementations.
//!
//! **Why explicit lanes.** Left to itself, LLVM vectorised the Hessian's four-column dot
//! products *across* the four columns (128-bit registers, shuffles, spilled accumulators)
//! rather than along the rows, and the pass ran at a fifth of the machine's speed. Here a
//! vector always holds eight consecutive rows of one column, and every accumulator is one
//! [`Lanes::V`].
//!
//! **Why the result does not depend on the CPU.** [`Avx2`] (two 256-bit registers, used where
//! the CPU has AVX2 and FMA) and [`Portable`] (eight scalars, everywhere else) perform the same
//! operation on every lane: a multiply-add is fused (rounded once) in both, `f64::mul_add`
//! being the correctly rounded fused operation on every target. The order of the additions is
//! fixed by the kernel's code, and the eight lanes are summed by [`reduce`] in a fixed order,
//! so both give the same bits (the kernel's tests check it).

/// Rows per vector: one 512-bit register, two 256-bit ones.
pub(super) const LANES: usize = 8;

/// Eight consecutive rows of one column, as stored.
pub(super) type Chunk = [f64; LANES];

/// The operations the fused pass needs on eight lanes.
pub(super) trait Lanes: Copy {
    type V: Copy;
    fn splat(self, value: f64) -> Self::V;
    fn load(self, chunk: &Chunk) -> Self::V;
    fn store(self, v: Self::V) -> Chunk;
    fn add(self, a: Self::V, b: Self::V) -> Self::V;
    fn mul(self, a: Self::V, b: Self::V) -> Self::V;
    /// `a · b + c`, rounded once.
    fn mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V;
}

/// Eight scalars: the path of CPUs without AVX2 and FMA (and of the tests that compare it to
/// the vector path).
#[derive(Debug, Clone, Copy)]
pub(super) struct Portable;

impl Lanes for Portable {
    type V = Chunk;

    #[inline(always)]
    fn splat(self, value: f64) -> Chunk {
        [value; LANES]
    }
    #[inline(always)]
    fn load(self, chunk: &Chunk) -> Chunk {
        *chunk
    }
    #[inline(always)]
    fn store(self, v: Chunk) -> Chunk {
        v
    }
    #[inline(always)]
    fn add(self, a: Chunk, b: Chunk) -> Chunk {
        std::array::from_fn(|l| a[l] + b[l])
    }
    #[inline(always)]
    fn mul(self, a: Chunk, b: Chunk) -> Chunk {
        std::array::from_fn(|l| a[l] * b[l])
    }
    #[inline(always)]
    fn mul_add(self, a: Chunk, b: Chunk, c: Chunk) -> Chunk {
        std::array::from_fn(|l| a[l].mul_add(b[l], c[l]))
    }
}

/// Two 256-bit registers (lanes 0–3, then 4–7), through `pulp`'s AVX2 and FMA token.
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy)]
pub(super) struct Avx2(pub pulp::x86::V3);

#[cfg(target_arch = "x86_64")]
impl Lanes for Avx2 {
    type V = (pulp::f64x4, pulp::f64x4);

    #[inline(always)]
    fn splat(self, value: f64) -> Self::V {
        let v = self.0.splat_f64x4(value);
        (v, v)
    }
    #[inline(always)]
    fn load(self, chunk: &Chunk) -> Self::V {
        let [a, b, c, d, e, f, g, h] = *chunk;
        (pulp::cast([a, b, c, d]), pulp::cast([e, f, g, h]))
    }
    #[inline(always)]
    fn store(self, (lo, hi): Self::V) -> Chunk {
        let ([a, b, c, d], [e, f, g, h]): ([f64; 4], [f64; 4]) = (pulp::cast(lo), pulp::cast(hi));
        [a, b, c, d, e, f, g, h]
    }
    #[inline(always)]
    fn add(self, a: Self::V, b: Self::V) -> Self::V {
        (self.0.add_f64x4(a.0, b.0), self.0.add_f64x4(a.1, b.1))
    }
    #[inline(always)]
    fn mul(self, a: Self::V, b: Self::V) -> Self::V {
        (self.0.mul_f64x4(a.0, b.0), self.0.mul_f64x4(a.1, b.1))
    }
    #[inline(always)]
    fn mul_add(self, a: Self::V, b: Self::V, c: Self::V) -> Self::V {
        (
            self.0.mul_add_f64x4(a.0, b.0, c.0),
            self.0.mul_add_f64x4(a.1, b.1, c.1),
        )
    }
}

/// The eight lanes' sum, pairwise in a fixed order.
#[inline(always)]
pub(super) fn reduce(a: Chunk) -> f64 {
    ((a[0] + a[4]) + (a[2] + a[6])) + ((a[1] + a[5]) + (a[3] + a[7]))
}
