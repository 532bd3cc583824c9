//! Input decks: TOML read into typed sections, `--set key=value` overrides, and errors that
//! name the file, the line and the key.

mod build;
mod inputs;
mod locate;
mod quantity;
mod schema;

pub use build::{
    build_dynamics, build_integrator, build_potential, build_stages, build_system, force_limit,
    max_displacement, neighbor_skin, DynamicsSpec, MinimizeStage, Stage, StageKind,
};
pub use inputs::input_files;
pub use quantity::{Dimension, Quantity};
pub use schema::*;

use std::path::{Path, PathBuf};

/// A deck problem, located as precisely as the deck allows.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.render())]
pub struct DeckError {
    /// The deck file.
    pub file: PathBuf,
    /// 1-based line of the offending key, when known.
    pub line: Option<usize>,
    /// Dotted key, e.g. `integrator.timestep`.
    pub key: String,
    /// What is wrong.
    pub message: String,
    /// True when the key was given on the command line with `--set`.
    pub from_command_line: bool,
}

impl DeckError {
    fn render(&self) -> String {
        let place = match (self.from_command_line, self.line) {
            (true, _) => format!("{} (--set)", self.file.display()),
            (false, Some(line)) => format!("{}:{}", self.file.display(), line),
            (false, None) => self.file.display().to_string(),
        };
        if self.key.is_empty() {
            format!("{place}: {}", self.message)
        } else {
            format!("{place}: key `{}`: {}", self.key, self.message)
        }
    }
}

/// A TOML input of some kind (a run deck, a training deck) that states its format version.
pub trait Versioned: serde::de::DeserializeOwned {
    /// The format version the file declares.
    fn version(&self) -> u32;
}

impl Versioned for Deck {
    fn version(&self) -> u32 {
        self.version
    }
}

/// A deck read from disk with the context needed to report errors and resolve paths.
#[derive(Clone, Debug)]
pub struct LoadedDeck<D = Deck> {
    /// The typed deck after overrides.
    pub deck: D,
    /// Where it was read from.
    pub path: PathBuf,
    text: String,
    overridden: Vec<String>,
}

impl<D: Versioned> LoadedDeck<D> {
    /// Reads `path`, applies `overrides` (`key.path=value`) and checks every value.
    pub fn load(path: &Path, overrides: &[String]) -> Result<LoadedDeck<D>, DeckError> {
        let text = std::fs::read_to_string(path).map_err(|e| DeckError {
            file: path.to_path_buf(),
            line: None,
            key: String::new(),
            message: format!("cannot read the deck: {e}"),
            from_command_line: false,
        })?;
        LoadedDeck::from_str(&text, path, overrides)
    }

    /// Parses deck `text` as if read from `path`.
    pub fn from_str(
        text: &str,
        path: &Path,
        overrides: &[String],
    ) -> Result<LoadedDeck<D>, DeckError> {
        let mut overridden = Vec::new();
        let mut table: toml::Table = text.parse().map_err(|e: toml::de::Error| {
            let line = e.span().map(|s| line_of_offset(text, s.start));
            DeckError {
                file: path.to_path_buf(),
                line,
                key: String::new(),
                message: format!("malformed TOML: {}", e.message()),
                from_command_line: false,
            }
        })?;
        for o in overrides {
            let key = apply_override(&mut table, o).map_err(|message| DeckError {
                file: path.to_path_buf(),
                line: None,
                key: o.split('=').next().unwrap_or("").trim().to_string(),
                message,
                from_command_line: true,
            })?;
            overridden.push(key);
        }
        let deck: D = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(
            |e: serde_path_to_error::Error<toml::de::Error>| {
                let key = e.path().to_string();
                let mut key = if key == "." { String::new() } else { key };
                let message = e.inner().message().to_string();
                // internally tagged sections lose the path below them: name the field
                if let Some(field) = message
                    .strip_prefix("unknown field `")
                    .and_then(|m| m.split('`').next())
                {
                    if !key.ends_with(field) {
                        key = if key.is_empty() {
                            field.to_string()
                        } else {
                            format!("{key}.{field}")
                        };
                    }
                }
                locate_error(path, text, &overridden, &key, message)
            },
        )?;
        let loaded = LoadedDeck {
            deck,
            path: path.to_path_buf(),
            text: text.to_string(),
            overridden,
        };
        if loaded.deck.version() != 1 {
            return Err(loaded.error(
                "version",
                format!(
                    "deck version {} is not supported (this eqmd reads version 1)",
                    loaded.deck.version()
                ),
            ));
        }
        Ok(loaded)
    }

    /// An error about `key`, located in the deck text (or on the command line).
    pub fn error(&self, key: &str, message: impl Into<String>) -> DeckError {
        locate_error(
            &self.path,
            &self.text,
            &self.overridden,
            key,
            message.into(),
        )
    }

    /// The folder relative paths in the deck are resolved against.
    pub fn folder(&self) -> PathBuf {
        self.path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."))
    }

    /// A path from the deck, resolved against the deck's folder.
    pub fn resolve(&self, relative: &str) -> PathBuf {
        let p = Path::new(relative);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.folder().join(p)
        }
    }

    /// The deck's file name without extension, used to name default outputs.
    pub fn stem(&self) -> String {
        self.path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "eqmd".to_string())
    }
}

/// An error about `key` of the deck `text` read from `path`, located on its line, or on the
/// command line if `--set` gave the key (or a table holding it).
fn locate_error(
    path: &Path,
    text: &str,
    overridden: &[String],
    key: &str,
    message: String,
) -> DeckError {
    let from_command_line = overridden
        .iter()
        .any(|o| key == o || key.starts_with(&format!("{o}.")));
    DeckError {
        file: path.to_path_buf(),
        line: locate::line_of_key(text, key),
        key: key.to_string(),
        message,
        from_command_line,
    }
}

/// 1-based line number of a byte offset.
fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// A key part of the form `name[k]`: the name and the index.
fn index_of(part: &str) -> Result<Option<(&str, usize)>, String> {
    let Some((name, rest)) = part.split_once('[') else {
        return Ok(None);
    };
    let k = rest
        .strip_suffix(']')
        .and_then(|k| k.trim().parse::<usize>().ok())
        .ok_or_else(|| format!("`{part}` is not of the form name[index]"))?;
    Ok(Some((name.trim(), k)))
}

/// Element `k` (a table) of the array of tables `name` in `node`, for `--set`.
fn element<'a>(
    node: &'a mut toml::Table,
    name: &str,
    k: usize,
    key: &str,
) -> Result<&'a mut toml::Table, String> {
    let Some(toml::Value::Array(items)) = node.get_mut(name) else {
        return Err(format!("`{name}` in `{key}` is not an array in the deck"));
    };
    let len = items.len();
    match items.get_mut(k) {
        Some(toml::Value::Table(t)) => Ok(t),
        Some(_) => Err(format!(
            "`{name}[{k}]` in `{key}` is not a table; arrays of values are set whole, e.g. \
             `--set 'potential.pairs=[{{ species = [\"A\", \"A\"], epsilon = 1.0, sigma = 1.0 }}]'`"
        )),
        None => Err(format!(
            "`{name}` has {len} elements: there is no `{name}[{k}]` (counted from 0)"
        )),
    }
}

/// Sets `key.path=value` in the table (the value parsed as TOML, or taken as a string);
/// `name[k]` reaches into element k of an array of tables. Returns the key.
fn apply_override(table: &mut toml::Table, assignment: &str) -> Result<String, String> {
    let (key, raw) = assignment
        .split_once('=')
        .ok_or_else(|| format!("`--set {assignment}` is not of the form key=value"))?;
    let key = key.trim();
    let raw = raw.trim();
    let parts: Vec<&str> = key.split('.').map(str::trim).collect();
    if key.is_empty() || parts.iter().any(|p| p.is_empty()) {
        return Err(format!("`--set {assignment}` has an empty key"));
    }
    let digits = raw.strip_prefix(['+', '-']).unwrap_or(raw).replace('_', "");
    if !digits.is_empty()
        && digits.bytes().all(|b| b.is_ascii_digit())
        && raw.parse::<i64>().is_err()
    {
        return Err(format!(
            "`--set {assignment}`: {raw} is out of range (integers are 64-bit: at most {})",
            i64::MAX
        ));
    }
    let value: toml::Value = format!("v = {raw}")
        .parse::<toml::Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()));
    let mut node = table;
    for part in &parts[..parts.len() - 1] {
        node = match index_of(part)? {
            Some((name, k)) => element(node, name, k, key)?,
            None => {
                let entry = node
                    .entry(part.to_string())
                    .or_insert_with(|| toml::Value::Table(toml::Table::new()));
                match entry {
                    toml::Value::Table(t) => t,
                    _ => return Err(format!("`{part}` in `{key}` is not a table")),
                }
            }
        };
    }
    if index_of(parts[parts.len() - 1])?.is_some() {
        return Err(format!(
            "`--set {assignment}`: set a key of the element (e.g. `stage[1].steps=1000`), not \
             the element itself"
        ));
    }
    node.insert(parts[parts.len() - 1].to_string(), value);
    Ok(key.to_string())
}
