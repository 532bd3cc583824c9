//! The extended-XYZ parser: splits a text into frames by their atom counts, tokenizes the
//! comment line by ASE's rules, infers the type of every info value, and parses the per-atom
//! columns that `Properties` declares into a [`Frame`].

use super::{err, to_vecs, ArrayValue, ExtxyzError, Frame, InfoValue};
use glam::DMat3;
use std::path::Path;

/// `empty!(Float, ncols)`: an ArrayValue column with no data yet.
macro_rules! empty {
    ($variant:ident, $ncols:expr) => {
        ArrayValue::$variant {
            ncols: $ncols,
            data: Vec::new(),
        }
    };
}

impl ArrayValue {
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

/// Per-atom columns a simulation moves the atoms by: a NaN or infinite value there would
/// silently take the atom out of every interaction, so the reader refuses it.
const MUST_BE_FINITE: [&str; 3] = ["pos", "velocities", "momenta"];

/// Per-atom properties read as vectors: each must be three real columns.
const VECTORS: [&str; 3] = ["velocities", "momenta", "forces"];

/// Whether a token that parsed as a real number is finite.
fn is_finite(tok: &str) -> bool {
    tok.parse::<f64>().is_ok_and(f64::is_finite)
}

/// Reads every frame of a file.
pub fn read_file(path: &Path) -> Result<Vec<Frame>, ExtxyzError> {
    let (text, name) = read_text(path)?;
    read_str(&text, &name)
}

/// A trajectory's whole frames, each with the byte offset at which it begins, and the
/// offset of a last frame cut off while it was written, which is not among them.
pub type FramesWithOffsets = (Vec<(Frame, u64)>, Option<u64>);

/// Reads every frame of a trajectory a run wrote with the byte offset at which each
/// begins, so that the file can be cut after a frame without rewriting what it keeps. A
/// last frame cut off mid-write (a killed run: fewer lines than it declares, or its last
/// line not ended) is returned as the offset to cut at, not as an error; damage anywhere
/// else is an error.
pub fn read_file_with_offsets(path: &Path) -> Result<FramesWithOffsets, ExtxyzError> {
    let (text, name) = read_text(path)?;
    let lines = content_lines(&text);
    let offset = |i: usize| (lines[i].as_ptr() as usize - text.as_ptr() as usize) as u64;
    let (mut spans, mut cut) = spans_to_cut(&lines, &name, true)?;
    if cut.is_none() && !text.ends_with('\n') {
        cut = spans.pop().map(|(i, _)| i); // the writer ends every frame with a newline
    }
    let frames = spans
        .iter()
        .map(|&(i, n)| Ok((parse_frame(&lines, i, n, &name)?, offset(i))))
        .collect::<Result<_, ExtxyzError>>()?;
    Ok((frames, cut.map(offset)))
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
    Ok(spans_to_cut(lines, source, false)?.0)
}

/// Frames as (index of the atom-count line, natoms), and the count line of a last frame
/// with fewer lines than it declares.
type Spans = (Vec<(usize, usize)>, Option<usize>);

/// [`frame_spans`], and when `cut_ok`, a last frame cut short (its count line the last
/// line, or fewer lines than it declares, as many atoms as the frame before) is returned
/// as the index of its count line instead of an error.
fn spans_to_cut(lines: &[&str], source: &str, cut_ok: bool) -> Result<Spans, ExtxyzError> {
    let mut spans = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let head = lines[i].trim();
        let what = if head.is_empty() { "blank line" } else { head };
        let msg = || format!("bad atom count {what:?}: expected an integer >= 0");
        let natoms: usize = head.parse().map_err(|_| err(source, i + 1, msg()))?;
        let after = lines.len() - i - 1; // lines after the count line

        // a kill cuts the last frame: its count line is the last line, or it declares the
        // atoms of the frame before; any other short frame is damage
        let like_before = spans.last().is_none_or(|&(_, n)| n == natoms);
        if cut_ok && (after == 0 || (natoms > after - 1 && like_before)) {
            return Ok((spans, Some(i)));
        }
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
    Ok((spans, None))
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
                if MUST_BE_FINITE.contains(&name.as_str()) && !is_finite(tok) {
                    let msg = format!(
                        "atom {}: column '{name}' holds {tok:?}, not a finite number",
                        a + 1
                    );
                    return Err(err(src, ln, msg));
                }
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
        // vectors per atom that eqmd reads: another shape would be silently left unread
        if VECTORS.contains(&name) {
            let vector = matches!(col, ArrayValue::Float { ncols: 3, .. });
            ensure!(
                vector,
                "{spec}: {name} must be {name}:R:3, got {name}:{ty}:{n}"
            );
        }
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

/// The frames of a file that `choose` picks from the number of frames it is given (0-based
/// indices, each below that number), in the order it lists them; the frames it skips are
/// delimited but not parsed, so that every tenth frame of a long trajectory costs a tenth.
pub fn read_frames_at(
    path: &Path,
    choose: impl FnOnce(usize) -> Vec<usize>,
) -> Result<Vec<Frame>, ExtxyzError> {
    let (text, name) = read_text(path)?;
    let lines = content_lines(&text);
    let spans = frame_spans(&lines, &name)?;
    (choose(spans.len()).into_iter())
        .map(|k| {
            let &(i, n) = spans.get(k).ok_or_else(|| {
                let msg = format!("frame {k} asked for, but the file has {}", spans.len());
                err(&name, 0, msg)
            })?;
            parse_frame(&lines, i, n, &name)
        })
        .collect()
}
