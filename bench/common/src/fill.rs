//! The value `/fill/{kib}` stores.

/// A string of `kib` KiB under the key `blob`, the same size our `bench-server` stores.
///
/// ```
/// assert_eq!(bench_common::blob(2).len(), 2048);
/// ```
#[must_use]
pub fn blob(kib: usize) -> String {
    "x".repeat(kib * 1024)
}
