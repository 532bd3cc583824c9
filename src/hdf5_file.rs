//! What is wrong with a file handed to the HDF5 library, in one line: a directory, a file
//! without HDF5's signature, a truncated one. The library's own error stack repeats every
//! message with timestamps and addresses; model files and H5MD trajectories report this
//! instead.

use std::path::Path;

/// Refuses a directory or a file without HDF5's signature, as `what` (e.g. "a model
/// file") is expected to be; other files pass, for the library to open.
pub fn check(path: &Path, what: &str) -> Result<(), String> {
    if path.is_dir() {
        return Err(format!("is a directory, not {what}"));
    }
    if let Some(kind) = crate::file_kind::not_a_file(path) {
        return Err(format!("is {kind}, not {what}"));
    }
    if !is_hdf5(path) {
        return Err(format!("is not an HDF5 file ({what} is HDF5)"));
    }
    Ok(())
}

/// Whether the file starts with HDF5's signature, at offset 0 or after a user block
/// (512, 1024, 2048, ... bytes), as the HDF5 library looks for it.
pub fn is_hdf5(path: &Path) -> bool {
    use std::io::{Read, Seek, SeekFrom};
    const SIGNATURE: &[u8; 8] = b"\x89HDF\r\n\x1a\n";
    let Ok(mut f) = std::fs::File::open(path) else {
        return true; // let the library say why it cannot be read
    };
    let len = f.metadata().map(|m| m.len()).unwrap_or(0);
    let mut at = 0u64;
    while at + 8 <= len {
        let mut head = [0u8; 8];
        if f.seek(SeekFrom::Start(at)).is_err() || f.read_exact(&mut head).is_err() {
            return true;
        }
        if &head == SIGNATURE {
            return true;
        }
        at = if at == 0 { 512 } else { 2 * at };
    }
    false
}

/// The HDF5 library's error in one line: its first message, without the repeats of its
/// error stack; a truncated file said so plainly.
pub fn brief(e: &hdf5::Error) -> String {
    let text = e.to_string();
    if text.contains("truncated file") {
        return "it is truncated (shorter than its header says)".to_string();
    }
    let first = text.lines().next().unwrap_or("").trim();
    // the stack repeats the outermost message: keep what comes before the repeat
    let head: String = first.chars().take(24).collect();
    match first.get(head.len()..).and_then(|rest| rest.find(&head)) {
        Some(k) => first[..head.len() + k]
            .trim_end_matches([':', ' '])
            .to_string(),
        None => first.to_string(),
    }
}

/// Raises the end of allocated space that an HDF5 file's superblock records, when the file
/// is longer, to its length plus `margin` bytes (the file grows to match), as `h5clear
/// --increment` does, and says whether it had to. A writer killed during a flush can leave
/// data written past the recorded end, which the library then refuses to read ("addr
/// overflow") and, once such data is freed, hands out again as space it cannot write;
/// `margin` covers what may lie past the written bytes. Only the original superblock
/// (versions 0 and 1, 8-byte addresses, at the start of the file, no driver information:
/// the format eqmd writes) is changed; other files are left as they are.
pub fn cover_written_bytes(path: &Path, margin: u64) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom, Write};
    let mut f = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(path)?;
    let len = f.metadata()?.len();
    let mut head = [0u8; 60];
    if len < head.len() as u64 {
        return Ok(false);
    }
    f.read_exact(&mut head)?;
    // signature, superblock version (byte 8), size of offsets (byte 13)
    if &head[..8] != b"\x89HDF\r\n\x1a\n" || head[8] > 1 || head[13] != 8 {
        return Ok(false);
    }
    // base, free-space, end-of-file and driver-information addresses, from byte 24
    // (version 0) or 28 (version 1, which adds the indexed storage's K)
    let at = if head[8] == 0 { 24 } else { 28 };
    let address = |k: usize| {
        let bytes: [u8; 8] = head[at + 8 * k..at + 8 * k + 8]
            .try_into()
            .expect("8 bytes");
        u64::from_le_bytes(bytes)
    };
    let (base, eoa, driver) = (address(0), address(2), address(3));
    if base != 0 || driver != u64::MAX || eoa >= len {
        return Ok(false);
    }
    let end = len + margin;
    f.set_len(end)?;
    f.seek(SeekFrom::Start((at + 16) as u64))?;
    f.write_all(&end.to_le_bytes())?;
    f.sync_data()?;
    Ok(true)
}
