//! Finds the line of a dotted key (`integrator.timestep`, `potential.pairs[0].sigma`) in
//! deck text, so that errors found after parsing still point at the line to fix.

use std::collections::HashMap;

/// The 1-based line where `key` (or its closest enclosing key) is written, if found.
/// Array-of-tables entries are addressed as `pairs[1]`; an index into an inline array
/// resolves to the line of the array.
pub fn line_of_key(text: &str, key: &str) -> Option<usize> {
    if key.is_empty() {
        return None;
    }
    let parts: Vec<&str> = key.split('.').filter(|p| !p.is_empty()).collect();
    let mut best: Option<(usize, usize)> = None; // (matched depth, line)
    let mut consider = |depth: usize, line: usize| {
        if depth > best.map_or(0, |b| b.0) {
            best = Some((depth, line));
        }
    };
    let mut table: Vec<String> = Vec::new();
    let mut seen_arrays: HashMap<String, usize> = HashMap::new();
    for (n, raw) in text.lines().enumerate() {
        let line = strip_comment(raw).trim();
        if let Some(header) = line.strip_prefix("[[") {
            let name = header.split("]]").next().unwrap_or("").trim();
            let count = seen_arrays.entry(name.to_string()).or_insert(0);
            table = split_key(name);
            if let Some(last) = table.last_mut() {
                *last = format!("{last}[{count}]");
            }
            *count += 1;
            let depth = common_prefix(&table, &parts);
            if depth == table.len() {
                consider(depth, n + 1);
            }
        } else if let Some(header) = line.strip_prefix('[') {
            table = split_key(header.split(']').next().unwrap_or(""));
            let depth = common_prefix(&table, &parts);
            if depth == table.len() {
                consider(depth, n + 1);
            }
        } else if let Some((lhs, rhs)) = line.split_once('=') {
            let mut full = table.clone();
            full.extend(split_key(lhs));
            let depth = common_prefix(&full, &parts);
            if depth < table.len() || depth == 0 {
                continue;
            }
            if depth == full.len() && depth < parts.len() {
                // keys inside an inline table on this line: `lattice = { repeat = [0, 1, 1] }`
                let inline = parts[depth..].iter().all(|p| rhs.contains(base_name(p)));
                consider(if inline { parts.len() } else { depth }, n + 1);
            } else {
                consider(depth, n + 1);
            }
        }
    }
    best.map(|b| b.1)
}

fn base_name(part: &str) -> &str {
    part.split('[').next().unwrap_or(part)
}

/// Matching elements: identical, or a file-side name without an index standing for any
/// element of that array.
fn common_prefix(file: &[String], key: &[&str]) -> usize {
    file.iter()
        .zip(key)
        .take_while(|(f, k)| f.as_str() == **k || (!f.contains('[') && f.as_str() == base_name(k)))
        .count()
}

fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '#' if !in_string => return &line[..i],
            _ => {}
        }
    }
    line
}

fn split_key(key: &str) -> Vec<String> {
    key.split('.')
        .map(|p| p.trim().trim_matches('"').to_string())
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::line_of_key;

    const DECK: &str = "units = \"lj\"\n\n[system]\nlattice = { kind = \"fcc\", repeat = [0, 1, 1] }\n\n[integrator]\n# a comment\ntimestep = -1\nsteps = 10\n\n[[potential.pairs]]\nspecies = [\"A\", \"A\"]\nsigma = 1\n";

    #[test]
    fn finds_keys_in_sections_inline_tables_and_arrays() {
        assert_eq!(line_of_key(DECK, "units"), Some(1));
        assert_eq!(line_of_key(DECK, "integrator.timestep"), Some(8));
        assert_eq!(line_of_key(DECK, "integrator"), Some(6));
        assert_eq!(line_of_key(DECK, "system.lattice.repeat"), Some(4));
        assert_eq!(line_of_key(DECK, "potential.pairs[0].sigma"), Some(13));
        assert_eq!(line_of_key(DECK, "potential.pairs[0].epsilon"), Some(11));
        assert_eq!(line_of_key(DECK, "integrator.missing"), Some(6));
    }
}
