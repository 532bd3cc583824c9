//! Extended-XYZ reader and writer, compatible with ASE's `ase.io.extxyz` dialect.
//!
//! A file is a sequence of frames: an atom-count line, a comment line of `key=value` pairs
//! (`Lattice`, `Properties`, `pbc` and free per-frame info), then one line per atom whose
//! columns are described by `Properties` (default `species:S:1:pos:R:3`).
//! Floats are written in shortest round-trip form, so write → read is bit-exact.

use glam::{DMat3, DVec3};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// `ensure!(cond, "fmt", args..)`: return `Err(String)` unless `cond`.
macro_rules! ensure {
    ($cond:expr, $($msg:tt)+) => {
        if !$cond {
            return Err(format!($($msg)+));
        }
    };
}

/// `empty!(Float, ncols)`: an ArrayValue column with no data yet.
macro_rules! empty {
    ($variant:ident, $ncols:expr) => {
        ArrayValue::$variant {
            ncols: $ncols,
            data: Vec::new(),
        }
    };
}

/// One frame of an extended-XYZ file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Frame {
    /// Cell vectors as the COLUMNS (`DMat3::from_cols(a, b, c)`); None when there is no Lattice.
    pub lattice: Option<DMat3>,
    /// Periodicity per axis; if pbc is absent: `[true; 3]` with a Lattice, else `[false; 3]` (ASE).
    pub pbc: [bool; 3],
    /// Chemical symbols (the `species` column).
    pub symbols: Vec<String>,
    /// Cartesian positions (the `pos` column).
    pub positions: Vec<DVec3>,
    /// Every other `key=value` of the comment line (energy, stress, virial, free strings...).
    pub info: BTreeMap<String, InfoValue>,
    /// Every other per-atom column, keyed by its name in `Properties` (forces, velocities, Z...).
    pub arrays: BTreeMap<String, ArrayValue>,
}

/// A per-frame value from the comment line, typed as ASE infers it (int, float, bool, else string).
///
/// As in ASE, one-element arrays read back as scalars, empty arrays as `Str("")`, and strings
/// that look like numbers or booleans as those.
#[derive(Clone, Debug, PartialEq)]
pub enum InfoValue {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    BoolArray(Vec<bool>),
    IntArray(Vec<i64>),
    FloatArray(Vec<f64>),
}

impl InfoValue {
    /// The value as a float, for numeric scalars (ints are widened).
    pub fn as_f64(&self) -> Option<f64> {
        match *self {
            InfoValue::Float(x) => Some(x),
            InfoValue::Int(i) => Some(i as f64),
            _ => None,
        }
    }

    /// The value as a float vector, for numeric arrays (ints are widened).
    pub fn as_f64_vec(&self) -> Option<Vec<f64>> {
        match self {
            InfoValue::FloatArray(v) => Some(v.clone()),
            InfoValue::IntArray(v) => Some(v.iter().map(|&i| i as f64).collect()),
            _ => None,
        }
    }
}

/// A per-atom property (one or more columns), stored row-major with `len = natoms * ncols`.
#[derive(Clone, Debug, PartialEq)]
pub enum ArrayValue {
    Float { ncols: usize, data: Vec<f64> },
    Int { ncols: usize, data: Vec<i64> },
    Bool { ncols: usize, data: Vec<bool> },
    Str { ncols: usize, data: Vec<String> },
}

impl ArrayValue {
    /// Number of columns per atom.
    pub fn ncols(&self) -> usize {
        self.meta().1
    }

    /// (type letter in `Properties`, ncols, number of stored values).
    fn meta(&self) -> (char, usize, usize) {
        match self {
            ArrayValue::Float { ncols, data } => ('R', *ncols, data.len()),
            ArrayValue::Int { ncols, data } => ('I', *ncols, data.len()),
            ArrayValue::Bool { ncols, data } => ('L', *ncols, data.len()),
            ArrayValue::Str { ncols, data } => ('S', *ncols, data.len()),
        }
    }

    /// Parses one column token onto the data; on failure names what was expected.
    fn push_token(&mut self, tok: &str) -> Result<(), &'static str> {
        match self {
            ArrayValue::Float { data, .. } => data.push(tok.parse().or(Err("a real number"))?),
            ArrayValue::Int { data, .. } => data.push(tok.parse().or(Err("an integer"))?),
            ArrayValue::Bool { data, .. } => data.push(parse_bool(tok).ok_or("a logical (T/F)")?),
            ArrayValue::Str { data, .. } => data.push(tok.to_string()),
        }
        Ok(())
    }
}

/// A read error, located by file name and 1-based line number (0 for I/O errors).
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ExtxyzError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

fn err(file: &str, line: usize, message: impl Into<String>) -> ExtxyzError {
    let (file, message) = (file.to_string(), message.into());
    ExtxyzError {
        file,
        line,
        message,
    }
}

impl Frame {
    /// A molecule-like frame (no lattice, no pbc, no extras); both vectors must be equally long.
    pub fn new(symbols: Vec<String>, positions: Vec<DVec3>) -> Frame {
        let mut f = Frame::default();
        (f.symbols, f.positions) = (symbols, positions);
        f
    }

    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// True when the frame has no atoms.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The info value `energy` (ASE may also write `free_energy`, which stays in `info`).
    pub fn energy(&self) -> Option<f64> {
        self.info.get("energy")?.as_f64()
    }

    /// Sets the info value `energy`.
    pub fn set_energy(&mut self, e: f64) {
        self.info.insert("energy".into(), InfoValue::Float(e));
    }

    /// The per-atom `forces` array, if present with 3 float columns.
    pub fn forces(&self) -> Option<Vec<DVec3>> {
        self.vector_array("forces")
    }

    /// Any 3-column float array as vectors (e.g. `velocities`); None if absent or shaped otherwise.
    pub fn vector_array(&self, name: &str) -> Option<Vec<DVec3>> {
        match self.arrays.get(name)? {
            ArrayValue::Float { ncols: 3, data } => Some(to_vecs(data)),
            _ => None,
        }
    }

    /// The info value `stress`: 9 values in ASE's flattening order (Fortran, column-major; equal to
    /// row-major for a symmetric stress) or 6 Voigt values (xx yy zz yz xz xy).
    pub fn stress(&self) -> Option<DMat3> {
        let v = self.info.get("stress")?.as_f64_vec()?;
        if let Ok(a) = <[f64; 9]>::try_from(v.as_slice()) {
            return Some(DMat3::from_cols_array(&a));
        }
        let [xx, yy, zz, yz, xz, xy] = <[f64; 6]>::try_from(v.as_slice()).ok()?;
        let cols = [[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]];
        Some(DMat3::from_cols_array_2d(&cols))
    }

    /// Sets the info value `stress` as the 9-vector ASE writes (column-major).
    pub fn set_stress(&mut self, s: DMat3) {
        let v = InfoValue::FloatArray(s.to_cols_array().to_vec());
        self.info.insert("stress".into(), v);
    }

    /// Sets the per-atom `forces` array (3 float columns).
    pub fn set_forces(&mut self, f: &[DVec3]) {
        self.set_vector_array("forces", f);
    }

    /// Sets any per-atom 3-column float array (e.g. `velocities`).
    pub fn set_vector_array(&mut self, name: &str, v: &[DVec3]) {
        let data = v.iter().flat_map(|p| p.to_array()).collect();
        let value = ArrayValue::Float { ncols: 3, data };
        self.arrays.insert(name.to_string(), value);
    }
}

fn to_vecs(data: &[f64]) -> Vec<DVec3> {
    data.chunks_exact(3).map(DVec3::from_slice).collect()
}

// ---------------------------------------------------------------- reading

/// Reads every frame of a file.
pub fn read_file(path: &Path) -> Result<Vec<Frame>, ExtxyzError> {
    let (text, name) = read_text(path)?;
    read_str(&text, &name)
}

/// Parses every frame of an in-memory extended-XYZ text; `source` is the name used in errors.
pub fn read_str(text: &str, source: &str) -> Result<Vec<Frame>, ExtxyzError> {
    let lines = content_lines(text);
    let spans = frame_spans(&lines, source)?;
    let parse = |&(i, n): &(usize, usize)| parse_frame(&lines, i, n, source);
    spans.iter().map(parse).collect()
}

/// Reads only the last frame (e.g. to restart a run); earlier frames are delimited but not parsed.
pub fn read_last_frame(path: &Path) -> Result<Frame, ExtxyzError> {
    let (text, name) = read_text(path)?;
    let lines = content_lines(&text);
    let spans = frame_spans(&lines, &name)?;
    let last = spans.last().copied();
    let (i, n) = last.ok_or_else(|| err(&name, 1, "file contains no frames"))?;
    parse_frame(&lines, i, n, &name)
}

fn read_text(path: &Path) -> Result<(String, String), ExtxyzError> {
    let name = path.display().to_string();
    match std::fs::read_to_string(path) {
        Ok(text) => Ok((text, name)),
        Err(e) => Err(err(&name, 0, format!("cannot read file: {e}"))),
    }
}

/// Lines of the text with trailing blank lines removed.
fn content_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    while lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    lines
}

/// Splits lines into frames as (index of the atom-count line, natoms); checks counts, truncation.
fn frame_spans(lines: &[&str], source: &str) -> Result<Vec<(usize, usize)>, ExtxyzError> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let head = lines[i].trim();
        let what = if head.is_empty() { "blank line" } else { head };
        let msg = || format!("bad atom count {what:?}: expected an integer >= 0");
        let natoms: usize = head.parse().map_err(|_| err(source, i + 1, msg()))?;
        let after = lines.len() - i - 1; // lines after the count line
        if after == 0 {
            let msg = "file ends before the comment line";
            return Err(err(source, i + 2, msg));
        }
        if natoms > after - 1 {
            let (l, found) = (i + 1, after - 1);
            let msg = format!("truncated: line {l} declares {natoms} atoms, only {found} follow");
            return Err(err(source, lines.len() + 1, msg));
        }
        spans.push((i, natoms));
        i += natoms + 2;
    }
    Ok(spans)
}

fn parse_frame(lines: &[&str], i: usize, natoms: usize, src: &str) -> Result<Frame, ExtxyzError> {
    let cline = i + 2; // 1-based number of the comment line
    let comment = lines.get(i + 1).copied().unwrap_or("");
    let mut frame = Frame::default();
    let (mut spec, mut pbc) = (None, None);
    for (key, value) in tokenize(comment) {
        match key.to_ascii_lowercase().as_str() {
            "lattice" => {
                let v = value.unwrap_or_default();
                let msg = format!("malformed Lattice {v:?}: expected 9 numbers");
                let m = parse_lattice(&v).ok_or_else(|| err(src, cline, msg))?;
                frame.lattice = Some(m);
            }
            "properties" => spec = value,
            "pbc" => {
                let v = value.unwrap_or_else(|| "T".into());
                let msg = format!("malformed pbc {v:?}: expected 3 of T/F");
                pbc = Some(parse_pbc(&v).ok_or_else(|| err(src, cline, msg))?);
            }
            _ => {
                let v = value.map_or(InfoValue::Bool(true), |v| infer(&v));
                frame.info.insert(key, v);
            }
        }
    }
    frame.pbc = pbc.unwrap_or([frame.lattice.is_some(); 3]);
    let spec = spec.unwrap_or_else(|| "species:S:1:pos:R:3".into());
    let mut props = parse_properties(&spec).map_err(|m| err(src, cline, m))?;
    let total: usize = props.iter().map(|(_, c)| c.ncols()).sum();

    for (a, line) in lines.iter().skip(i + 2).take(natoms).enumerate() {
        let ln = i + 3 + a;
        let mut toks = line.split_whitespace();
        let count_err = || {
            let found = line.split_whitespace().count();
            let msg = format!("{found} columns, but Properties={spec} declares {total}");
            err(src, ln, msg)
        };
        for (name, col) in props.iter_mut() {
            for _ in 0..col.ncols() {
                let tok = toks.next().ok_or_else(count_err)?;
                let bad = |what| {
                    let msg = format!("column '{name}': {tok:?} is not {what}");
                    err(src, ln, msg)
                };
                col.push_token(tok).map_err(bad)?;
            }
        }
        if toks.next().is_some() {
            return Err(count_err());
        }
    }

    for (name, col) in props {
        match (name.as_str(), col) {
            ("species", ArrayValue::Str { data, .. }) => frame.symbols = data,
            ("pos", ArrayValue::Float { data, .. }) => frame.positions = to_vecs(&data),
            (_, col) => _ = frame.arrays.insert(name, col),
        }
    }
    Ok(frame)
}

/// Parses `name:T:n:...` into empty columns; requires `species:S:1` and `pos:R:3`.
fn parse_properties(spec: &str) -> Result<Vec<(String, ArrayValue)>, String> {
    let fields: Vec<&str> = spec.split(':').collect();
    let spec = format!("Properties={spec}");
    ensure!(fields.len() % 3 == 0, "{spec}: need name:type:ncols");
    let mut props: Vec<(String, ArrayValue)> = Vec::new();
    for f in fields.chunks_exact(3) {
        let (name, ty, n) = (f[0], f[1], f[2]);
        let ncols = n.parse::<usize>().unwrap_or(0);
        ensure!(ncols > 0, "{spec}: bad column count {n:?}");
        let col = match ty {
            "R" => empty!(Float, ncols),
            "I" => empty!(Int, ncols),
            "S" => empty!(Str, ncols),
            "L" => empty!(Bool, ncols),
            _ => return Err(format!("{spec}: unknown type {ty:?}")),
        };
        let dup = props.iter().any(|(p, _)| p == name);
        ensure!(!name.is_empty() && !dup, "{spec}: repeated name");
        let ok = match name {
            "pos" => matches!(col, ArrayValue::Float { ncols: 3, .. }),
            "species" => matches!(col, ArrayValue::Str { ncols: 1, .. }),
            _ => true,
        };
        ensure!(ok, "{spec}: need pos:R:3 and species:S:1");
        props.push((name.to_string(), col));
    }
    let has = |name: &str| props.iter().any(|(p, _)| p == name);
    ensure!(has("species") && has("pos"), "{spec}: no species or pos");
    Ok(props)
}

/// Splits a comment line into (key, value) pairs by ASE's rules: whitespace separates pairs,
/// `"` `'` `{}` `[]` delimit values, `\` escapes the next character, `key = value` is allowed.
/// Unlike ASE, an empty quoted value (`key=""`) is kept as an empty string.
fn tokenize(s: &str) -> Vec<(String, Option<String>)> {
    let mut done: Vec<Vec<String>> = Vec::new();
    let mut pieces: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut touched = false; // a delimiter opened in `cur`, so it counts even when empty
    let mut delim: Option<char> = None;
    let mut escaped = false;
    for ch in s.trim().chars() {
        let opener = match ch {
            '"' | '\'' => Some(ch),
            '{' => Some('}'),
            '[' => Some(']'),
            _ => None,
        };
        if escaped {
            cur.push(ch);
            escaped = false;
        } else if ch == '\\' {
            escaped = true;
        } else if let Some(d) = delim {
            if ch == d {
                delim = None;
            } else {
                cur.push(ch);
            }
        } else if opener.is_some() {
            (delim, touched) = (opener, true);
        } else if ch.is_whitespace() {
            if !cur.is_empty() || touched {
                pieces.push(std::mem::take(&mut cur));
                done.push(std::mem::take(&mut pieces));
                touched = false;
            }
        } else if ch == '=' {
            if pieces.is_empty() && cur.is_empty() && !touched && !done.is_empty() {
                pieces = done.pop().unwrap_or_default(); // `key = value`: reopen the previous pair
            } else {
                pieces.push(std::mem::take(&mut cur));
                touched = false;
            }
        } else {
            cur.push(ch);
        }
    }
    if !(pieces.is_empty() && cur.is_empty() && !touched) {
        pieces.push(cur);
        done.push(pieces);
    }
    let pair = |p: Vec<String>| {
        let (key, rest) = p.split_first()?;
        Some((key.clone(), (!rest.is_empty()).then(|| rest.join("="))))
    };
    done.into_iter().filter_map(pair).collect()
}

fn split_values(v: &str) -> Vec<&str> {
    let sep = |c: char| c.is_whitespace() || c == ',';
    v.split(sep).filter(|s| !s.is_empty()).collect()
}

/// Parses every part with `f`; None if any fails.
fn parse_all<T>(parts: &[&str], f: impl Fn(&str) -> Option<T>) -> Option<Vec<T>> {
    parts.iter().map(|p| f(p)).collect()
}

/// ASE's value inference: ints, else floats, else booleans (scalar if one item), else string.
fn infer(value: &str) -> InfoValue {
    use InfoValue as V;
    let p = split_values(value);
    if p.is_empty() {
        V::Str(value.to_string())
    } else if let Some(v) = parse_all(&p, |s| s.parse().ok()) {
        if let [x] = v[..] {
            V::Int(x)
        } else {
            V::IntArray(v)
        }
    } else if let Some(v) = parse_all(&p, |s| s.parse().ok()) {
        if let [x] = v[..] {
            V::Float(x)
        } else {
            V::FloatArray(v)
        }
    } else if let Some(v) = parse_all(&p, parse_bool) {
        if let [x] = v[..] {
            V::Bool(x)
        } else {
            V::BoolArray(v)
        }
    } else {
        V::Str(value.to_string())
    }
}

/// ASE's booleans (per-atom `L` columns accept the same words).
fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "T" | "true" | "True" | "TRUE" => Some(true),
        "F" | "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn parse_lattice(v: &str) -> Option<DMat3> {
    let nums = parse_all(&split_values(v), |s| s.parse::<f64>().ok())?;
    let a = <[f64; 9]>::try_from(nums.as_slice()).ok()?;
    Some(DMat3::from_cols_array(&a)) // a, b, c in order = columns
}

fn parse_pbc(v: &str) -> Option<[bool; 3]> {
    match infer(v) {
        InfoValue::Bool(b) => Some([b; 3]),
        InfoValue::BoolArray(b) => b.try_into().ok(),
        _ => None,
    }
}

// ---------------------------------------------------------------- writing

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
