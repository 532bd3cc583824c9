//! A pool of working buffers for computations called through `&self`, possibly from
//! several threads at once: each caller borrows a buffer of its own, and buffers are kept
//! from call to call so that a hot loop does not fault in fresh pages every time.

use std::sync::{Mutex, MutexGuard};

/// Spare buffers of type `T`, lent out one per call by `with`.
///
/// The lock is held only to take a buffer out and to put it back, never while the buffer
/// is in use, so concurrent and nested callers (a thread that waits on parallel work may
/// start another call) each work in their own buffer. The pool keeps as many buffers as
/// were ever in use at once.
pub struct Scratch<T> {
    spare: Mutex<Vec<T>>,
}

impl<T> Scratch<T> {
    /// An empty pool.
    pub const fn new() -> Scratch<T> {
        Scratch {
            spare: Mutex::new(Vec::new()),
        }
    }

    /// The spare buffers; a panic elsewhere cannot leave a list of them inconsistent, so a
    /// poisoned lock is used as it is.
    fn spare(&self) -> MutexGuard<'_, Vec<T>> {
        self.spare.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T: Default> Scratch<T> {
    /// Lends a buffer to `f`: a spare one as the last user left it, or `T::default()` if
    /// none is free, taken back afterwards. `f` must not rely on its contents.
    pub fn with<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let taken = self.spare().pop();
        let mut buffer = taken.unwrap_or_default();
        let result = f(&mut buffer);
        self.spare().push(buffer);
        result
    }
}

impl<T> Default for Scratch<T> {
    fn default() -> Scratch<T> {
        Scratch::new()
    }
}

/// A clone starts with an empty pool: buffers are working space, not state.
impl<T> Clone for Scratch<T> {
    fn clone(&self) -> Scratch<T> {
        Scratch::new()
    }
}

impl<T> std::fmt::Debug for Scratch<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Scratch")
    }
}

#[cfg(test)]
mod tests {
    use super::Scratch;

    #[test]
    fn a_buffer_is_kept_between_calls() {
        let pool: Scratch<Vec<u8>> = Scratch::new();
        pool.with(|b| b.extend_from_slice(&[1, 2, 3]));
        assert_eq!(pool.with(|b| b.clone()), vec![1, 2, 3]);
    }

    #[test]
    fn nested_callers_get_buffers_of_their_own() {
        let pool: Scratch<Vec<u8>> = Scratch::new();
        pool.with(|outer| {
            outer.push(1);
            pool.with(|inner| {
                assert!(inner.is_empty());
                inner.push(2);
            });
            assert_eq!(outer, &[1]);
        });
        assert_eq!(pool.spare().len(), 2);
    }

    #[test]
    fn a_clone_is_empty() {
        let pool: Scratch<Vec<u8>> = Scratch::new();
        pool.with(|b| b.push(1));
        assert!(pool.clone().spare().is_empty());
    }
}
