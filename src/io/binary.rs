//! Little-endian binary encoding with a checksum, shared by the run and training
//! checkpoints, and atomic file writes.

use glam::DVec3;
use std::path::Path;

/// FNV-1a hash of `bytes` (the checksum of binary files).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Little-endian encoder.
pub struct Writer(pub Vec<u8>);

impl Writer {
    pub fn u64(&mut self, v: u64) {
        self.0.extend_from_slice(&v.to_le_bytes());
    }
    pub fn f64(&mut self, v: f64) {
        self.u64(v.to_bits());
    }
    pub fn vectors(&mut self, v: &[DVec3]) {
        self.u64(v.len() as u64);
        for x in v {
            self.f64(x.x);
            self.f64(x.y);
            self.f64(x.z);
        }
    }
}

/// Little-endian decoder that reports truncation instead of panicking.
pub struct Reader<'a> {
    pub bytes: &'a [u8],
    pub at: usize,
}

impl Reader<'_> {
    pub fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or("the file is truncated")?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    pub fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }
    pub fn f64(&mut self) -> Result<f64, String> {
        Ok(f64::from_bits(self.u64()?))
    }
    pub fn len(&mut self, limit: usize) -> Result<usize, String> {
        let n = self.u64()? as usize;
        if n > limit {
            return Err(format!("a length of {n} is larger than the file"));
        }
        Ok(n)
    }
    pub fn vectors(&mut self) -> Result<Vec<DVec3>, String> {
        let n = self.len(self.bytes.len() / 24)?;
        (0..n)
            .map(|_| Ok(DVec3::new(self.f64()?, self.f64()?, self.f64()?)))
            .collect()
    }
}

impl Writer {
    /// A slice of numbers, length first.
    pub fn f64s(&mut self, v: &[f64]) {
        self.u64(v.len() as u64);
        for &x in v {
            self.f64(x);
        }
    }
}

impl Reader<'_> {
    /// A slice of numbers written by [`Writer::f64s`].
    pub fn f64s(&mut self) -> Result<Vec<f64>, String> {
        let n = self.len(self.bytes.len() / 8)?;
        (0..n).map(|_| self.f64()).collect()
    }
}

/// Writes `bytes` to `path` through a temporary file and a rename, so the file on disk is
/// always whole.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        if !dir.as_os_str().is_empty() {
            std::fs::create_dir_all(dir)?;
        }
    }
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::rename(&tmp, path)
}
