//! The extended-XYZ writer: checks that a frame is representable, formats it in ASE's layout
//! (floats in shortest round-trip form), and writes it to a stream, a new file, or a file
//! that [`ExtxyzWriter`] appends to and flushes frame by frame.

use super::{ArrayValue, Frame, InfoValue};
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Writes one frame in ASE's layout: `Lattice=.. Properties=species:S:1:pos:R:3:.. <info> pbc=..`.
/// Fails with `InvalidInput` if the frame is not representable (length mismatch, bad names/tokens).
pub fn write_frame<W: Write>(w: &mut W, frame: &Frame) -> io::Result<()> {
    validate(frame).map_err(|m| io::Error::new(io::ErrorKind::InvalidInput, m))?;
    let mut buf = String::with_capacity(128 + frame.len() * 80);
    format_frame(&mut buf, frame);
    w.write_all(buf.as_bytes())
}

/// Writes all frames to a new file (truncating any existing one).
pub fn write_file(path: &Path, frames: &[Frame]) -> io::Result<()> {
    let mut w = io::BufWriter::new(File::create(path)?);
    for f in frames {
        write_frame(&mut w, f)?;
    }
    w.flush()
}

/// Appends frames to a file and flushes after each one, so a killed run leaves a readable file.
/// Each frame is formatted in memory and handed to the OS in a single write.
pub struct ExtxyzWriter {
    file: File,
    buf: Vec<u8>,
}

impl ExtxyzWriter {
    /// Creates (or truncates) the file.
    pub fn create(path: &Path) -> io::Result<Self> {
        let file = File::create(path)?;
        Ok(Self { file, buf: vec![] })
    }

    /// Opens the file for appending, creating it if needed (e.g. to continue a restarted run).
    pub fn append(path: &Path) -> io::Result<Self> {
        let file = OpenOptions::new().append(true).create(true).open(path)?;
        Ok(Self { file, buf: vec![] })
    }

    /// Writes one frame and flushes it to the OS.
    pub fn write(&mut self, frame: &Frame) -> io::Result<()> {
        self.buf.clear();
        write_frame(&mut self.buf, frame)?;
        self.file.write_all(&self.buf)?;
        self.file.flush()
    }
}

/// A token usable unquoted in an atom column: non-empty, no whitespace.
fn is_token(s: &str) -> bool {
    !s.is_empty() && !s.contains(char::is_whitespace)
}

fn validate(frame: &Frame) -> Result<(), String> {
    let (n, ns) = (frame.positions.len(), frame.symbols.len());
    ensure!(ns == n, "{ns} symbols but {n} positions");
    let syms_ok = frame.symbols.iter().all(|s| is_token(s));
    ensure!(syms_ok, "a species is empty or contains whitespace");
    for (name, a) in &frame.arrays {
        let reserved = name == "species" || name == "pos";
        let ok = is_token(name) && !reserved && !name.contains([':', '"', '\'', '=']);
        ensure!(ok, "array name {name:?} is reserved or not writable");
        let (_, c, len) = a.meta();
        let ok = c > 0 && len == n * c;
        ensure!(ok, "array {name}: {len} values, need {n}x{c}");
        let bad = |d: &Vec<String>| !d.iter().all(|s| is_token(s));
        let bad_str = matches!(a, ArrayValue::Str { data, .. } if bad(data));
        ensure!(!bad_str, "array {name}: empty or spaced string");
    }
    for (key, v) in &frame.info {
        let lower = key.to_ascii_lowercase();
        let reserved = ["lattice", "properties", "pbc"].contains(&lower.as_str());
        ensure!(!reserved, "info key {key:?} is reserved");
        let nl = |s: &str| s.contains(['\n', '\r']);
        let bad = nl(key) || matches!(v, InfoValue::Str(s) if nl(s));
        ensure!(!bad, "info {key:?} contains a line break");
    }
    Ok(())
}

fn format_frame(buf: &mut String, frame: &Frame) {
    push_display(buf, frame.len());
    buf.push('\n');
    if let Some(l) = frame.lattice {
        buf.push_str("Lattice=");
        push_list(buf, &l.to_cols_array(), |b, &x| push_f64(b, x));
        buf.push(' ');
    }
    buf.push_str("Properties=species:S:1:pos:R:3");
    for (name, a) in &frame.arrays {
        let (ty, c, _) = a.meta();
        let _ = write!(buf, ":{name}:{ty}:{c}");
    }
    for (key, v) in &frame.info {
        buf.push(' ');
        push_str_value(buf, key);
        buf.push('=');
        match v {
            InfoValue::Bool(b) => buf.push(tf(*b)),
            InfoValue::Int(i) => push_display(buf, i),
            InfoValue::Float(x) => push_f64(buf, *x),
            InfoValue::Str(s) => push_str_value(buf, s),
            InfoValue::BoolArray(v) => push_list(buf, v, |b, &x| b.push(tf(x))),
            InfoValue::IntArray(v) => push_list(buf, v, |b, x| push_display(b, x)),
            InfoValue::FloatArray(v) => push_list(buf, v, |b, &x| push_f64(b, x)),
        }
    }
    let [px, py, pz] = frame.pbc.map(tf);
    let _ = writeln!(buf, " pbc=\"{px} {py} {pz}\"");

    let mut tmp = String::new();
    for (i, (sym, p)) in frame.symbols.iter().zip(&frame.positions).enumerate() {
        let _ = write!(buf, "{sym:<2}");
        for x in p.to_array() {
            pad(buf, &mut tmp, 20, |t| push_f64(t, x));
        }
        for a in frame.arrays.values() {
            let c = a.ncols();
            for j in i * c..(i + 1) * c {
                let t = &mut tmp;
                match a {
                    ArrayValue::Float { data, .. } => pad(buf, t, 20, |t| push_f64(t, data[j])),
                    ArrayValue::Int { data, .. } => pad(buf, t, 8, |t| push_display(t, data[j])),
                    ArrayValue::Bool { data, .. } => pad(buf, t, 2, |t| t.push(tf(data[j]))),
                    ArrayValue::Str { data, .. } => pad(buf, t, 4, |t| t.push_str(&data[j])),
                }
            }
        }
        buf.push('\n');
    }
}

fn tf(b: bool) -> char {
    ['F', 'T'][usize::from(b)]
}

fn push_display(buf: &mut String, x: impl std::fmt::Display) {
    let _ = write!(buf, "{x}");
}

/// Writes `"a b c"`, each item formatted by `f`.
fn push_list<T>(buf: &mut String, items: &[T], f: impl Fn(&mut String, &T)) {
    buf.push('"');
    for (i, x) in items.iter().enumerate() {
        if i > 0 {
            buf.push(' ');
        }
        f(buf, x);
    }
    buf.push('"');
}

/// Formats into `tmp`, then appends it right-aligned to `width` (at least one separating space).
fn pad(buf: &mut String, tmp: &mut String, width: usize, f: impl FnOnce(&mut String)) {
    tmp.clear();
    f(tmp);
    for _ in 0..width.saturating_sub(tmp.len()).max(1) {
        buf.push(' ');
    }
    buf.push_str(tmp);
}

/// Shortest round-trip representation that always reads back as a float (has `.`, `e`, inf or NaN).
fn push_f64(buf: &mut String, x: f64) {
    if x.is_finite() {
        // shortest representation that reads back to the same bits; always has `.` or `e`
        buf.push_str(ryu::Buffer::new().format_finite(x));
    } else {
        push_display(buf, x);
    }
}

/// Writes a string bare when safe, else double-quoted with `\` and `"` escaped.
fn push_str_value(buf: &mut String, s: &str) {
    let special = |c: char| c.is_whitespace() || "\"'{}[]=\\".contains(c);
    if !s.is_empty() && !s.contains(special) {
        buf.push_str(s);
        return;
    }
    buf.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            buf.push('\\');
        }
        buf.push(c);
    }
    buf.push('"');
}
