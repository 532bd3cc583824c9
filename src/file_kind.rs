//! What a path names when it is not a regular file. Readers refuse such a path at once
//! (opening a pipe to read waits for a writer that may never come) and writers never
//! replace it (renaming over a device replaces the device).

use std::path::Path;

/// None for a regular file or a path that does not exist; otherwise what the path is:
/// "a folder", or "a device, pipe or other special file".
pub fn not_a_file(path: &Path) -> Option<&'static str> {
    let meta = std::fs::metadata(path).ok()?;
    if meta.is_file() {
        None
    } else if meta.is_dir() {
        Some("a folder")
    } else {
        Some("a device, pipe or other special file")
    }
}
