//! Extended-XYZ reader and writer, compatible with ASE's `ase.io.extxyz` dialect.
//!
//! A file is a sequence of frames: an atom-count line, a comment line of `key=value`
//! pairs (`Lattice`, `Properties`, `pbc` and free per-frame info), then one line per atom
//! whose columns are described by `Properties` (default `species:S:1:pos:R:3`).
//! Floats are written in shortest round-trip form, so write → read is bit-exact.

use glam::{DMat3, DVec3};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

/// One frame of an extended-XYZ file.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Frame {
    /// Cell vectors as the COLUMNS of the matrix (`DMat3::from_cols(a, b, c)`); None when the comment line has no Lattice.
    pub lattice: Option<DMat3>,
    /// Periodicity per axis; ASE's rule: if pbc is absent, `[true; 3]` when Lattice is given, else `[false; 3]`.
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
/// One-element arrays read back as scalars and strings that look like numbers or booleans
/// read back as such, exactly as in ASE.
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
        match self {
            ArrayValue::Float { ncols, .. }
            | ArrayValue::Int { ncols, .. }
            | ArrayValue::Bool { ncols, .. }
            | ArrayValue::Str { ncols, .. } => *ncols,
        }
    }

    /// Total number of stored values (natoms * ncols).
    pub fn data_len(&self) -> usize {
        match self {
            ArrayValue::Float { data, .. } => data.len(),
            ArrayValue::Int { data, .. } => data.len(),
            ArrayValue::Bool { data, .. } => data.len(),
            ArrayValue::Str { data, .. } => data.len(),
        }
    }

    fn type_letter(&self) -> char {
        match self {
            ArrayValue::Float { .. } => 'R',
            ArrayValue::Int { .. } => 'I',
            ArrayValue::Bool { .. } => 'L',
            ArrayValue::Str { .. } => 'S',
        }
    }
}

/// A parse error, located by file name and 1-based line number (0 for I/O errors).
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ExtxyzError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

fn err(file: &str, line: usize, message: impl Into<String>) -> ExtxyzError {
    ExtxyzError {
        file: file.to_string(),
        line,
        message: message.into(),
    }
}

impl Frame {
    /// A molecule-like frame (no lattice, no periodicity, no extra data); the two vectors must have equal length.
    pub fn new(symbols: Vec<String>, positions: Vec<DVec3>) -> Frame {
        Frame {
            symbols,
            positions,
            ..Frame::default()
        }
    }

    /// Number of atoms.
    pub fn len(&self) -> usize {
        self.positions.len()
    }

    /// True when the frame has no atoms.
    pub fn is_empty(&self) -> bool {
        self.positions.is_empty()
    }

    /// The info value `energy` (ASE also writes `free_energy`, which is left in `info`).
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

    /// Any 3-column float array as vectors (e.g. `velocities`), None if absent or of another shape.
    pub fn vector_array(&self, name: &str) -> Option<Vec<DVec3>> {
        match self.arrays.get(name)? {
            ArrayValue::Float { ncols: 3, data } => Some(
                data.chunks_exact(3)
                    .map(|c| DVec3::new(c[0], c[1], c[2]))
                    .collect(),
            ),
            _ => None,
        }
    }

    /// The info value `stress`: 9 values flattened in ASE's (Fortran, column-major) order, or 6 Voigt values
    /// (xx yy zz yz xz xy). For the usual symmetric stress, row- and column-major orders agree.
    pub fn stress(&self) -> Option<DMat3> {
        let v = self.info.get("stress")?.as_f64_vec()?;
        if let Ok(a) = <[f64; 9]>::try_from(v.as_slice()) {
            return Some(DMat3::from_cols_array(&a));
        }
        match *v.as_slice() {
            [xx, yy, zz, yz, xz, xy] => Some(DMat3::from_cols(
                DVec3::new(xx, xy, xz),
                DVec3::new(xy, yy, yz),
                DVec3::new(xz, yz, zz),
            )),
            _ => None,
        }
    }

    /// Sets the info value `stress` as the 9-vector ASE writes (column-major).
    pub fn set_stress(&mut self, s: DMat3) {
        self.info.insert(
            "stress".into(),
            InfoValue::FloatArray(s.to_cols_array().to_vec()),
        );
    }

    /// Sets the per-atom `forces` array (3 float columns).
    pub fn set_forces(&mut self, f: &[DVec3]) {
        self.set_vector_array("forces", f);
    }

    /// Sets any per-atom 3-column float array (e.g. `velocities`).
    pub fn set_vector_array(&mut self, name: &str, v: &[DVec3]) {
        let data = v.iter().flat_map(|p| p.to_array()).collect();
        self.arrays
            .insert(name.to_string(), ArrayValue::Float { ncols: 3, data });
    }
}

// ---------------------------------------------------------------- reading

/// Reads every frame of a file.
pub fn read_file(path: impl AsRef<Path>) -> Result<Vec<Frame>, ExtxyzError> {
    let (text, name) = read_text(path.as_ref())?;
    read_str(&text, &name)
}

/// Parses every frame of an in-memory extended-XYZ text; `source` is the name used in errors.
pub fn read_str(text: &str, source: &str) -> Result<Vec<Frame>, ExtxyzError> {
    let lines = content_lines(text);
    let spans = frame_spans(&lines, source)?;
    spans
        .iter()
        .map(|&(start, natoms)| parse_frame(&lines, start, natoms, source))
        .collect()
}

/// Reads only the last frame (e.g. to restart a run); earlier frames are framed but not parsed.
pub fn read_last_frame(path: impl AsRef<Path>) -> Result<Frame, ExtxyzError> {
    let (text, name) = read_text(path.as_ref())?;
    let lines = content_lines(&text);
    let spans = frame_spans(&lines, &name)?;
    let &(start, natoms) = spans
        .last()
        .ok_or_else(|| err(&name, 1, "file contains no frames"))?;
    parse_frame(&lines, start, natoms, &name)
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

/// Splits the lines into frames: (index of the atom-count line, natoms). Checks counts and truncation.
fn frame_spans(lines: &[&str], source: &str) -> Result<Vec<(usize, usize)>, ExtxyzError> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let head = lines[i].trim();
        let natoms: usize = head.parse().map_err(|_| {
            let msg = if head.is_empty() {
                "blank line where an atom count was expected".to_string()
            } else {
                format!("bad atom count {head:?}: expected a non-negative integer")
            };
            err(source, i + 1, msg)
        })?;
        let after = lines.len() - i - 1; // lines after the count line
        if after == 0 {
            return Err(err(
                source,
                i + 2,
                format!(
                    "file ends before the comment line of the frame at line {}",
                    i + 1
                ),
            ));
        }
        if natoms > after - 1 {
            return Err(err(
                source,
                lines.len() + 1,
                format!("truncated frame: line {} declares {natoms} atoms but the file ends after {} atom lines", i + 1, after - 1),
            ));
        }
        spans.push((i, natoms));
        i += natoms + 2;
    }
    Ok(spans)
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Real,
    Int,
    Str,
    Logical,
}

struct Prop {
    name: String,
    kind: Kind,
    ncols: usize,
}

enum Col {
    F(Vec<f64>),
    I(Vec<i64>),
    B(Vec<bool>),
    S(Vec<String>),
}

fn parse_frame(
    lines: &[&str],
    start: usize,
    natoms: usize,
    source: &str,
) -> Result<Frame, ExtxyzError> {
    let cline = start + 2; // 1-based number of the comment line
    let comment = lines.get(start + 1).copied().unwrap_or("");
    let mut frame = Frame::default();
    let mut spec = None;
    let mut pbc = None;
    for (key, value) in tokenize(comment) {
        match key.to_ascii_lowercase().as_str() {
            "lattice" => {
                let v = value.unwrap_or_default();
                let m = parse_lattice(&v).ok_or_else(|| {
                    err(
                        source,
                        cline,
                        format!("malformed Lattice {v:?}: expected 9 numbers"),
                    )
                })?;
                frame.lattice = Some(m);
            }
            "properties" => spec = Some(value.unwrap_or_default()),
            "pbc" => {
                let v = value.unwrap_or_else(|| "T".into());
                let p = parse_pbc(&v).ok_or_else(|| {
                    err(
                        source,
                        cline,
                        format!("malformed pbc {v:?}: expected 3 of T/F"),
                    )
                })?;
                pbc = Some(p);
            }
            "uid" if value.is_some() => {
                frame
                    .info
                    .insert(key, InfoValue::Str(value.unwrap_or_default()));
            }
            _ => {
                let v = value.map_or(InfoValue::Bool(true), |v| infer(&v));
                frame.info.insert(key, v);
            }
        }
    }
    frame.pbc = pbc.unwrap_or([frame.lattice.is_some(); 3]);
    let spec = spec.unwrap_or_else(|| "species:S:1:pos:R:3".into());
    let props = parse_properties(&spec).map_err(|m| err(source, cline, m))?;
    let total: usize = props.iter().map(|p| p.ncols).sum();

    let mut cols: Vec<Col> = props
        .iter()
        .map(|p| {
            let n = natoms * p.ncols;
            match p.kind {
                Kind::Real => Col::F(Vec::with_capacity(n)),
                Kind::Int => Col::I(Vec::with_capacity(n)),
                Kind::Logical => Col::B(Vec::with_capacity(n)),
                Kind::Str => Col::S(Vec::with_capacity(n)),
            }
        })
        .collect();
    for (a, line) in lines.iter().skip(start + 2).take(natoms).enumerate() {
        let ln = start + 3 + a;
        let mut toks = line.split_whitespace();
        let count_err = || {
            let found = line.split_whitespace().count();
            err(
                source,
                ln,
                format!("atom line has {found} columns but Properties={spec} declares {total}"),
            )
        };
        for (p, col) in props.iter().zip(cols.iter_mut()) {
            for _ in 0..p.ncols {
                let tok = toks.next().ok_or_else(count_err)?;
                let bad = |what: &str| {
                    err(
                        source,
                        ln,
                        format!("column '{}': {tok:?} is not {what}", p.name),
                    )
                };
                match col {
                    Col::F(v) => v.push(tok.parse().map_err(|_| bad("a real number"))?),
                    Col::I(v) => v.push(tok.parse().map_err(|_| bad("an integer"))?),
                    Col::B(v) => v.push(parse_bool(tok).ok_or_else(|| bad("a logical (T/F)"))?),
                    Col::S(v) => v.push(tok.to_string()),
                }
            }
        }
        if toks.next().is_some() {
            return Err(count_err());
        }
    }

    let mut numbers = None;
    for (p, col) in props.into_iter().zip(cols) {
        let ncols = p.ncols;
        match (p.name.as_str(), col) {
            ("species", Col::S(v)) => frame.symbols = v,
            ("pos", Col::F(v)) => {
                frame.positions = v
                    .chunks_exact(3)
                    .map(|c| DVec3::new(c[0], c[1], c[2]))
                    .collect();
            }
            (name, col) => {
                let value = match col {
                    Col::F(data) => ArrayValue::Float { ncols, data },
                    Col::I(data) => {
                        if name == "Z" && ncols == 1 {
                            numbers = Some(data.clone());
                        }
                        ArrayValue::Int { ncols, data }
                    }
                    Col::B(data) => ArrayValue::Bool { ncols, data },
                    Col::S(data) => ArrayValue::Str { ncols, data },
                };
                frame.arrays.insert(p.name, value);
            }
        }
    }
    if frame.symbols.is_empty() && natoms > 0 {
        let z = numbers.ok_or_else(|| {
            err(
                source,
                cline,
                "Properties has neither species:S:1 nor Z:I:1",
            )
        })?;
        frame.symbols = z.iter().map(|&z| symbol_of(z).to_string()).collect();
    }
    Ok(frame)
}

/// Parses `name:T:n:name:T:n...`; species must be S:1 and pos R:3 (pos is required).
fn parse_properties(spec: &str) -> Result<Vec<Prop>, String> {
    let fields: Vec<&str> = spec.split(':').collect();
    if fields.len() % 3 != 0 {
        return Err(format!(
            "malformed Properties={spec}: expected name:type:ncols triples"
        ));
    }
    let mut props: Vec<Prop> = Vec::new();
    for f in fields.chunks_exact(3) {
        let (name, ty, n) = (f[0], f[1], f[2]);
        let kind =
            match ty {
                "R" => Kind::Real,
                "I" => Kind::Int,
                "S" => Kind::Str,
                "L" => Kind::Logical,
                _ => return Err(format!(
                    "Properties={spec}: unknown type {ty:?} for '{name}' (expected R, I, S or L)"
                )),
            };
        let ncols = match n.parse::<usize>() {
            Ok(c) if c > 0 => c,
            _ => {
                return Err(format!(
                    "Properties={spec}: bad column count {n:?} for '{name}'"
                ))
            }
        };
        if name.is_empty() || props.iter().any(|p| p.name == name) {
            return Err(format!(
                "Properties={spec}: empty or duplicate property name {name:?}"
            ));
        }
        let ok = match name {
            "species" => kind == Kind::Str && ncols == 1,
            "pos" => kind == Kind::Real && ncols == 3,
            _ => true,
        };
        if !ok {
            return Err(format!(
                "Properties={spec}: '{name}' must be {}",
                if name == "pos" { "R:3" } else { "S:1" }
            ));
        }
        props.push(Prop {
            name: name.to_string(),
            kind,
            ncols,
        });
    }
    if !props.iter().any(|p| p.name == "pos") {
        return Err(format!("Properties={spec} has no pos:R:3"));
    }
    Ok(props)
}

/// Splits a comment line into (key, value) pairs with ASE's tokenizer rules: whitespace separates
/// pairs, `"` `'` `{}` `[]` delimit values, `\` escapes the next character, `key = value` is allowed.
/// Unlike ASE, an empty quoted value (`key=""`) is kept as an empty string.
fn tokenize(s: &str) -> Vec<(String, Option<String>)> {
    let mut done: Vec<Vec<String>> = Vec::new();
    let mut pieces: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut touched = false; // a delimiter opened in `cur`, so it counts even when empty
    let mut delim: Option<char> = None;
    let mut escaped = false;
    for ch in s.trim().chars() {
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
        } else if let Some(close) = match ch {
            '"' => Some('"'),
            '\'' => Some('\''),
            '{' => Some('}'),
            '[' => Some(']'),
            _ => None,
        } {
            delim = Some(close);
            touched = true;
        } else if ch.is_whitespace() {
            if cur.is_empty() && !touched {
                continue;
            }
            pieces.push(std::mem::take(&mut cur));
            done.push(std::mem::take(&mut pieces));
            touched = false;
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
    done.into_iter()
        .filter_map(|p| {
            let (key, rest) = p.split_first()?;
            let value = (!rest.is_empty()).then(|| rest.join("="));
            Some((key.clone(), value))
        })
        .collect()
}

fn split_values(v: &str) -> Vec<&str> {
    v.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|s| !s.is_empty())
        .collect()
}

/// ASE's value inference: ints, else floats, else booleans (scalar if one item, array otherwise), else string.
fn infer(value: &str) -> InfoValue {
    let parts = split_values(value);
    if parts.is_empty() {
        return InfoValue::Str(value.to_string());
    }
    if let Ok(v) = parts
        .iter()
        .map(|p| p.parse::<i64>())
        .collect::<Result<Vec<_>, _>>()
    {
        return if v.len() == 1 {
            InfoValue::Int(v[0])
        } else {
            InfoValue::IntArray(v)
        };
    }
    if let Ok(v) = parts
        .iter()
        .map(|p| p.parse::<f64>())
        .collect::<Result<Vec<_>, _>>()
    {
        return if v.len() == 1 {
            InfoValue::Float(v[0])
        } else {
            InfoValue::FloatArray(v)
        };
    }
    if let Some(v) = parts
        .iter()
        .map(|p| parse_info_bool(p))
        .collect::<Option<Vec<_>>>()
    {
        return if v.len() == 1 {
            InfoValue::Bool(v[0])
        } else {
            InfoValue::BoolArray(v)
        };
    }
    InfoValue::Str(value.to_string())
}

fn parse_info_bool(s: &str) -> Option<bool> {
    match s {
        "T" | "true" | "True" | "TRUE" => Some(true),
        "F" | "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s {
        "T" | "True" => Some(true),
        "F" | "False" => Some(false),
        _ => None,
    }
}

fn parse_lattice(v: &str) -> Option<DMat3> {
    let nums: Vec<f64> = split_values(v)
        .iter()
        .map(|s| s.parse().ok())
        .collect::<Option<_>>()?;
    let a = <[f64; 9]>::try_from(nums.as_slice()).ok()?;
    Some(DMat3::from_cols_array(&a)) // a, b, c in order = columns
}

fn parse_pbc(v: &str) -> Option<[bool; 3]> {
    match infer(v) {
        InfoValue::Bool(b) => Some([b; 3]),
        InfoValue::Int(i @ (0 | 1)) => Some([i == 1; 3]),
        InfoValue::BoolArray(b) => b.try_into().ok(),
        InfoValue::IntArray(v) if v.iter().all(|&i| i == 0 || i == 1) => v
            .iter()
            .map(|&i| i == 1)
            .collect::<Vec<_>>()
            .try_into()
            .ok(),
        _ => None,
    }
}

const ELEMENTS: &str = "X H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni Cu \
    Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm Sm \
    Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu Am \
    Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og";

fn symbol_of(z: i64) -> &'static str {
    usize::try_from(z)
        .ok()
        .and_then(|z| ELEMENTS.split_whitespace().nth(z))
        .unwrap_or("X")
}

// ---------------------------------------------------------------- writing

/// Writes one frame in ASE's layout: `Lattice=".." Properties=species:S:1:pos:R:3:<arrays> <info> pbc=".."`.
/// Fails with `InvalidInput` if the frame cannot be represented (length mismatch, bad names or tokens).
pub fn write_frame<W: Write>(w: &mut W, frame: &Frame) -> io::Result<()> {
    let mut buf = String::with_capacity(128 + frame.len() * 80);
    format_frame(&mut buf, frame)?;
    w.write_all(buf.as_bytes())
}

/// Writes all frames to a new file (truncating any existing one).
pub fn write_file(path: impl AsRef<Path>, frames: &[Frame]) -> io::Result<()> {
    let mut w = io::BufWriter::new(std::fs::File::create(path)?);
    for f in frames {
        write_frame(&mut w, f)?;
    }
    w.flush()
}

/// Appends frames to a file and flushes after each one, so a killed run leaves a readable file.
///
/// Each frame is formatted in memory and handed to the OS in a single write.
pub struct ExtxyzWriter {
    file: std::fs::File,
    buf: Vec<u8>,
}

impl ExtxyzWriter {
    /// Creates (or truncates) the file.
    pub fn create(path: impl AsRef<Path>) -> io::Result<Self> {
        Ok(Self {
            file: std::fs::File::create(path)?,
            buf: Vec::new(),
        })
    }

    /// Opens the file for appending, creating it if needed (e.g. to continue a restarted run).
    pub fn append(path: impl AsRef<Path>) -> io::Result<Self> {
        let file = std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)?;
        Ok(Self {
            file,
            buf: Vec::new(),
        })
    }

    /// Writes one frame and flushes it to the OS.
    pub fn write(&mut self, frame: &Frame) -> io::Result<()> {
        self.buf.clear();
        write_frame(&mut self.buf, frame)?;
        self.file.write_all(&self.buf)?;
        self.file.flush()
    }
}

fn invalid(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, msg)
}

/// A token usable unquoted in an atom column: non-empty, no whitespace.
fn is_column_token(s: &str) -> bool {
    !s.is_empty() && !s.chars().any(char::is_whitespace)
}

fn format_frame(buf: &mut String, frame: &Frame) -> io::Result<()> {
    let n = frame.positions.len();
    if frame.symbols.len() != n {
        return Err(invalid(format!(
            "{} symbols but {n} positions",
            frame.symbols.len()
        )));
    }
    if let Some(s) = frame.symbols.iter().find(|s| !is_column_token(s)) {
        return Err(invalid(format!(
            "species {s:?} is empty or contains whitespace"
        )));
    }
    for (name, a) in &frame.arrays {
        if name == "species"
            || name == "pos"
            || !is_column_token(name)
            || name.contains([':', '"', '\'', '='])
        {
            return Err(invalid(format!(
                "array name {name:?} is reserved or not writable"
            )));
        }
        if a.ncols() == 0 || a.data_len() != n * a.ncols() {
            return Err(invalid(format!(
                "array '{name}' has {} values, expected {n} x {}",
                a.data_len(),
                a.ncols()
            )));
        }
        if let ArrayValue::Str { data, .. } = a {
            if let Some(s) = data.iter().find(|s| !is_column_token(s)) {
                return Err(invalid(format!(
                    "array '{name}': string {s:?} is empty or contains whitespace"
                )));
            }
        }
    }
    for (key, v) in &frame.info {
        if ["lattice", "properties", "pbc"].contains(&key.to_ascii_lowercase().as_str()) {
            return Err(invalid(format!(
                "info key {key:?} is reserved; use Frame::lattice/pbc"
            )));
        }
        let bad_str = matches!(v, InfoValue::Str(s) if s.contains(['\n', '\r']));
        if key.contains(['\n', '\r']) || bad_str {
            return Err(invalid(format!("info '{key}' contains a line break")));
        }
    }

    let _ = writeln!(buf, "{n}");
    if let Some(l) = frame.lattice {
        buf.push_str("Lattice=\"");
        join_f64(buf, &l.to_cols_array());
        buf.push_str("\" ");
    }
    buf.push_str("Properties=species:S:1:pos:R:3");
    for (name, a) in &frame.arrays {
        let _ = write!(buf, ":{name}:{}:{}", a.type_letter(), a.ncols());
    }
    for (key, v) in &frame.info {
        buf.push(' ');
        push_str_value(buf, key);
        buf.push('=');
        match v {
            InfoValue::Bool(b) => buf.push(if *b { 'T' } else { 'F' }),
            InfoValue::Int(i) => {
                let _ = write!(buf, "{i}");
            }
            InfoValue::Float(x) => push_f64(buf, *x),
            InfoValue::Str(s) => push_str_value(buf, s),
            InfoValue::BoolArray(v) => {
                let s: Vec<&str> = v.iter().map(|&b| if b { "T" } else { "F" }).collect();
                let _ = write!(buf, "\"{}\"", s.join(" "));
            }
            InfoValue::IntArray(v) => {
                let s: Vec<String> = v.iter().map(i64::to_string).collect();
                let _ = write!(buf, "\"{}\"", s.join(" "));
            }
            InfoValue::FloatArray(v) => {
                buf.push('"');
                join_f64(buf, v);
                buf.push('"');
            }
        }
    }
    let tf = |b: bool| if b { 'T' } else { 'F' };
    let [px, py, pz] = frame.pbc;
    let _ = writeln!(buf, " pbc=\"{} {} {}\"", tf(px), tf(py), tf(pz));

    let mut tmp = String::new();
    for (i, (sym, p)) in frame.symbols.iter().zip(&frame.positions).enumerate() {
        let _ = write!(buf, "{sym:<2}");
        for x in p.to_array() {
            push_padded(buf, &mut tmp, 24, |t| push_f64(t, x));
        }
        for a in frame.arrays.values() {
            let c = a.ncols();
            for j in i * c..(i + 1) * c {
                match a {
                    ArrayValue::Float { data, .. } => {
                        push_padded(buf, &mut tmp, 24, |t| push_f64(t, data[j]))
                    }
                    ArrayValue::Int { data, .. } => push_padded(buf, &mut tmp, 8, |t| {
                        let _ = write!(t, "{}", data[j]);
                    }),
                    ArrayValue::Bool { data, .. } => {
                        push_padded(buf, &mut tmp, 2, |t| t.push(tf(data[j])))
                    }
                    ArrayValue::Str { data, .. } => {
                        push_padded(buf, &mut tmp, 4, |t| t.push_str(&data[j]))
                    }
                }
            }
        }
        buf.push('\n');
    }
    Ok(())
}

/// Formats into `tmp`, then appends it right-aligned to `width` (at least one separating space).
fn push_padded(buf: &mut String, tmp: &mut String, width: usize, f: impl FnOnce(&mut String)) {
    tmp.clear();
    f(tmp);
    for _ in 0..width.saturating_sub(tmp.len()).max(1) {
        buf.push(' ');
    }
    buf.push_str(tmp);
}

/// Shortest round-trip representation that always reads back as a float (has `.`, `e`, inf or NaN).
fn push_f64(buf: &mut String, x: f64) {
    let start = buf.len();
    let a = x.abs();
    if a == 0.0 || !a.is_finite() || (1e-5..1e16).contains(&a) {
        let _ = write!(buf, "{x}");
    } else {
        let _ = write!(buf, "{x:e}");
    }
    if !buf[start..].contains(['.', 'e', 'n', 'N']) {
        buf.push_str(".0");
    }
}

fn join_f64(buf: &mut String, v: &[f64]) {
    for (i, &x) in v.iter().enumerate() {
        if i > 0 {
            buf.push(' ');
        }
        push_f64(buf, x);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokenizer_follows_ase() {
        let kv = tokenize(r#"a=1 b = "x y" flag c={1 2} d="q\"q" e="" f=[T, F]"#);
        let keys: Vec<&str> = kv.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["a", "b", "flag", "c", "d", "e", "f"]);
        assert_eq!(kv[1].1.as_deref(), Some("x y"));
        assert_eq!(kv[2].1, None);
        assert_eq!(kv[4].1.as_deref(), Some("q\"q"));
        assert_eq!(kv[5].1.as_deref(), Some(""));
        assert_eq!(infer("1 2"), InfoValue::IntArray(vec![1, 2]));
        assert_eq!(infer("T, F"), InfoValue::BoolArray(vec![true, false]));
        assert_eq!(infer("1e3"), InfoValue::Float(1000.0));
        assert_eq!(infer("abc 1"), InfoValue::Str("abc 1".into()));
    }

    #[test]
    fn float_format_round_trips() {
        for x in [
            0.0,
            -0.0,
            1.0,
            1e300,
            -1e-300,
            0.1,
            1e16,
            123456.789,
            f64::MIN_POSITIVE,
            5e-324,
        ] {
            let mut s = String::new();
            push_f64(&mut s, x);
            assert!(
                matches!(infer(&s), InfoValue::Float(y) if y.to_bits() == x.to_bits()),
                "{s}"
            );
        }
    }
}
