//! Little-endian binary encoding with a checksum, shared by the run and training
//! checkpoints, and atomic file writes.
//!
//! A framed file is an 8-byte magic, the body (which starts with the format's version, in
//! the width that format chose), and the FNV-1a checksum of everything before it, as a
//! little-endian u64: [`Writer::framed`] and [`Writer::seal`] write one,
//! [`Reader::framed`] checks one and reads its body.

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

impl Writer {
    /// UTF-8 text, length in bytes first.
    pub fn string(&mut self, s: &str) {
        self.u64(s.len() as u64);
        self.0.extend_from_slice(s.as_bytes());
    }
}

impl Reader<'_> {
    /// Text written by [`Writer::string`].
    pub fn string(&mut self) -> Result<String, String> {
        let n = self.len(self.bytes.len())?;
        String::from_utf8(self.take(n)?.to_vec()).map_err(|_| "a text is not UTF-8".to_string())
    }

    /// A slice of numbers written by [`Writer::f64s`].
    pub fn f64s(&mut self) -> Result<Vec<f64>, String> {
        let n = self.len(self.bytes.len() / 8)?;
        (0..n).map(|_| self.f64()).collect()
    }
}

/// Why framed bytes were refused; each format words its own message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// Too short or without the magic: not a file of this format.
    NotThisFormat,
    /// The checksum does not match: the file is damaged or truncated.
    Checksum,
}

impl Writer {
    /// Starts a framed file with its `magic`; the body (version first) follows.
    pub fn framed(magic: &[u8; 8]) -> Writer {
        Writer(magic.to_vec())
    }

    /// Ends a framed file: appends the checksum of everything written and returns the bytes.
    pub fn seal(mut self) -> Vec<u8> {
        let sum = fnv1a(&self.0);
        self.u64(sum);
        self.0
    }
}

impl<'a> Reader<'a> {
    /// Opens bytes written by [`Writer::framed`] and [`Writer::seal`]: at least `min_len`
    /// bytes (and never fewer than magic and checksum), the `magic`, then a matching
    /// checksum. The reader starts after the magic; its bytes are everything but the
    /// checksum, so lengths are bounded by the file.
    pub fn framed(
        bytes: &'a [u8],
        magic: &[u8; 8],
        min_len: usize,
    ) -> Result<Reader<'a>, FrameError> {
        if bytes.len() < min_len.max(magic.len() + 8) || &bytes[..magic.len()] != magic {
            return Err(FrameError::NotThisFormat);
        }
        let (body, sum) = bytes.split_at(bytes.len() - 8);
        if fnv1a(body).to_le_bytes() != sum {
            return Err(FrameError::Checksum);
        }
        Ok(Reader {
            bytes: body,
            at: magic.len(),
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_is_magic_body_checksum() {
        let mut w = Writer::framed(b"ABCDEFGH");
        w.u64(7);
        let bytes = w.seal();
        assert_eq!(bytes.len(), 24);
        assert_eq!(&bytes[..8], b"ABCDEFGH");
        assert_eq!(bytes[16..], fnv1a(&bytes[..16]).to_le_bytes());
        let mut r = Reader::framed(&bytes, b"ABCDEFGH", 16).unwrap();
        assert_eq!((r.at, r.bytes.len()), (8, 16));
        assert_eq!(r.u64(), Ok(7));
        assert!(r.u64().is_err());
    }

    #[test]
    fn a_bad_frame_is_refused() {
        let bytes = Writer::framed(b"ABCDEFGH").seal();
        let open = |b: &[u8], min| Reader::framed(b, b"ABCDEFGH", min).map(|r| r.at);
        assert_eq!(open(&bytes, 16), Ok(8));
        assert_eq!(open(&bytes, 17), Err(FrameError::NotThisFormat));
        assert_eq!(open(&bytes[..15], 0), Err(FrameError::NotThisFormat));
        assert_eq!(open(b"ABCDEFGX01234567", 0), Err(FrameError::NotThisFormat));
        let mut damaged = bytes.clone();
        damaged[3] ^= 1;
        assert_eq!(open(&damaged, 0), Err(FrameError::NotThisFormat));
        damaged = bytes.clone();
        damaged[12] ^= 1;
        assert_eq!(open(&damaged, 0), Err(FrameError::Checksum));
    }
}
