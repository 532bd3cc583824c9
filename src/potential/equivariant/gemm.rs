//! Strided matrix views and the real matrix product over them (the `gemm` crate's SIMD
//! kernels, which multiply small matrices without packing them first): what the network's
//! linear maps ([`super::dense`]), its radial MLP ([`super::mlp`]) and the dual numbers'
//! planes ([`super::scalar`]) are built on.

/// A strided matrix view of a slice: element (r, c) at `offset + r·rs + c·cs`.
#[derive(Clone, Copy, Debug)]
pub struct View<'a, T> {
    pub data: &'a [T],
    pub offset: usize,
    pub rs: usize,
    pub cs: usize,
}

impl<'a, T> View<'a, T> {
    /// The view of `data` from `offset` with row and column strides `rs`, `cs`.
    pub fn new(data: &'a [T], offset: usize, (rs, cs): (usize, usize)) -> Self {
        View {
            data,
            offset,
            rs,
            cs,
        }
    }
}

/// The mutable counterpart of [`View`].
#[derive(Debug)]
pub struct ViewMut<'a, T> {
    pub data: &'a mut [T],
    pub offset: usize,
    pub rs: usize,
    pub cs: usize,
}

impl<'a, T> ViewMut<'a, T> {
    /// The view of `data` from `offset` with row and column strides `rs`, `cs`.
    pub fn new(data: &'a mut [T], offset: usize, (rs, cs): (usize, usize)) -> Self {
        ViewMut {
            data,
            offset,
            rs,
            cs,
        }
    }
}

/// Panics unless every element of a `[rows × cols]` matrix at `offset` with strides
/// `rs`, `cs` lies within `len`: what makes the raw kernel call safe.
fn check(len: usize, offset: usize, (rs, cs): (usize, usize), (rows, cols): (usize, usize)) {
    let last = offset + (rows - 1) * rs + (cols - 1) * cs;
    assert!(last < len, "matrix view out of bounds: {last} ≥ {len}");
}

/// C += α·A·B for real strided matrices, A `[m × k]`, B `[k × n]`, C `[m × n]`.
pub fn dgemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f64,
    a: View<f64>,
    b: View<f64>,
    c: ViewMut<f64>,
) {
    product((m, k, n), alpha, a, b, c, true);
}

/// C = α·A·B for real strided matrices of sizes `(m, k, n)` (C's old values are not read).
pub fn dgemm_set(
    sizes: (usize, usize, usize),
    alpha: f64,
    a: View<f64>,
    b: View<f64>,
    c: ViewMut<f64>,
) {
    product(sizes, alpha, a, b, c, false);
}

/// C = α·A·B, added to C's old values when `accumulate`.
fn product(
    (m, k, n): (usize, usize, usize),
    alpha: f64,
    a: View<f64>,
    b: View<f64>,
    c: ViewMut<f64>,
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    check(c.data.len(), c.offset, (c.rs, c.cs), (m, n));
    if k == 0 {
        if !accumulate {
            for r in 0..m {
                for col in 0..n {
                    c.data[c.offset + r * c.rs + col * c.cs] = 0.0;
                }
            }
        }
        return;
    }
    check(a.data.len(), a.offset, (a.rs, a.cs), (m, k));
    check(b.data.len(), b.offset, (b.rs, b.cs), (k, n));
    // SAFETY: the three views were checked to lie within their slices; C is borrowed
    // mutably, so it overlaps neither A nor B. gemm computes dst = α'·dst + β'·lhs·rhs, and
    // reads dst only when told to.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            c.data.as_mut_ptr().add(c.offset),
            c.cs as isize,
            c.rs as isize,
            accumulate,
            a.data.as_ptr().add(a.offset),
            a.cs as isize,
            a.rs as isize,
            b.data.as_ptr().add(b.offset),
            b.cs as isize,
            b.rs as isize,
            1.0,
            alpha,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}
