//! Outputs never destroy inputs: before a run or a training writes anything, every output
//! path is checked against the files it reads (the deck, its structure, potential and model
//! files, training data), against the other outputs, and against special files (devices,
//! pipes, folders), which an atomic rename would replace.

use std::path::{Path, PathBuf};

/// A file a command reads or writes, with the deck key (or description) that named it.
#[derive(Clone, Debug)]
pub struct NamedPath {
    pub key: String,
    pub path: PathBuf,
}

impl NamedPath {
    pub fn new(key: impl Into<String>, path: impl Into<PathBuf>) -> NamedPath {
        NamedPath {
            key: key.into(),
            path: path.into(),
        }
    }
}

/// Why an output path cannot be written: the output's key and the message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub key: String,
    pub message: String,
}

/// The path with its folder resolved (symbolic links and `..` followed), so that two
/// spellings of one file compare equal even when the file does not exist yet.
fn normalised(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    match (absolute.parent(), absolute.file_name()) {
        (Some(dir), Some(name)) => std::fs::canonicalize(dir)
            .map(|d| d.join(name))
            .unwrap_or(absolute.clone()),
        _ => absolute,
    }
}

/// Whether `a` and `b` name the same file: the same inode when both exist (hard links
/// included), else the same normalised path.
pub fn same_file(a: &Path, b: &Path) -> bool {
    if let Ok(same) = same_file::is_same_file(a, b) {
        return same;
    }
    normalised(a) == normalised(b)
}

/// Checks every output against the inputs, the other outputs and special files. An output
/// whose key is in `may_replace` alongside an input's key (a checkpoint rewritten by the
/// run restarted from it) is allowed to be that input.
pub fn check_outputs(
    outputs: &[NamedPath],
    inputs: &[NamedPath],
    may_replace: &[(&str, &str)],
) -> Result<(), Refusal> {
    for (i, out) in outputs.iter().enumerate() {
        if let Some(what) = crate::file_kind::not_a_file(&out.path) {
            return Err(Refusal {
                key: out.key.clone(),
                message: format!("{} is {what}, not a file to write", out.path.display()),
            });
        }
        for input in inputs {
            let allowed = may_replace.contains(&(out.key.as_str(), input.key.as_str()));
            if !allowed && same_file(&out.path, &input.path) {
                return Err(Refusal {
                    key: out.key.clone(),
                    message: format!(
                        "{} is also the input {}: an output never overwrites an input",
                        out.path.display(),
                        input.key
                    ),
                });
            }
        }
        if let Some(other) = outputs[..i].iter().find(|o| same_file(&o.path, &out.path)) {
            return Err(Refusal {
                key: out.key.clone(),
                message: format!(
                    "{} is also the output {}: every output needs its own file",
                    out.path.display(),
                    other.key
                ),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_and_links_of_one_file_are_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.xyz");
        std::fs::write(&a, "x").unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        assert!(same_file(&a, &sub.join("..").join("a.xyz")));
        let link = dir.path().join("hard.xyz");
        std::fs::hard_link(&a, &link).unwrap();
        assert!(same_file(&a, &link));
        // a file that does not exist yet, spelled two ways
        assert!(same_file(
            &dir.path().join("new.csv"),
            &sub.join("../new.csv")
        ));
        assert!(!same_file(&a, &dir.path().join("new.csv")));
    }

    #[test]
    fn outputs_onto_inputs_others_and_devices_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let deck = dir.path().join("deck.toml");
        std::fs::write(&deck, "x").unwrap();
        let inputs = [NamedPath::new("the deck", &deck)];
        let out = |k: &str, p: &Path| NamedPath::new(k, p);
        let e = check_outputs(&[out("trajectory.file", &deck)], &inputs, &[]).unwrap_err();
        assert_eq!(e.key, "trajectory.file");
        assert!(e.message.contains("the deck"), "{}", e.message);
        let e = check_outputs(&[out("h5md.file", Path::new("/dev/full"))], &[], &[]).unwrap_err();
        assert!(e.message.contains("special file"), "{}", e.message);
        let e = check_outputs(&[out("thermo.file", dir.path())], &[], &[]).unwrap_err();
        assert!(e.message.contains("folder"), "{}", e.message);
        let t = dir.path().join("t.csv");
        let e = check_outputs(
            &[out("thermo.file", &t), out("trajectory.file", &t)],
            &[],
            &[],
        )
        .unwrap_err();
        assert_eq!(e.key, "trajectory.file");
        assert!(e.message.contains("thermo.file"), "{}", e.message);
        // a restart rewrites the checkpoint it read
        let c = [NamedPath::new("--restart", &deck)];
        assert!(check_outputs(
            &[out("checkpoint.file", &deck)],
            &c,
            &[("checkpoint.file", "--restart")]
        )
        .is_ok());
        assert!(check_outputs(&[out("thermo.file", &t)], &inputs, &[]).is_ok());
    }
}
