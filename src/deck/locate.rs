//! Finds the line of a dotted key (`integrator.timestep`, `potential.pairs[0].sigma`) in
//! deck text, so that errors found after parsing still point at the line to fix.

/// The 1-based line where `key` (or its closest enclosing key) is written, if found.
pub fn line_of_key(text: &str, key: &str) -> Option<usize> {
    if key.is_empty() {
        return None;
    }
    let parts: Vec<String> = key
        .split('.')
        .map(|p| p.split('[').next().unwrap_or(p).to_string())
        .filter(|p| !p.is_empty())
        .collect();
    let mut best: Option<(usize, usize)> = None; // (matched depth, line)
    let mut table: Vec<String> = Vec::new();
    for (n, raw) in text.lines().enumerate() {
        let line = strip_comment(raw).trim();
        if line.is_empty() {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            let name = header.trim_start_matches('[');
            let name = name.split(']').next().unwrap_or("");
            table = split_key(name);
            let depth = common_prefix(&table, &parts);
            if depth == table.len() && depth > best.map_or(0, |b| b.0) {
                best = Some((depth, n + 1));
            }
            continue;
        }
        let Some((lhs, _)) = line.split_once('=') else {
            continue;
        };
        let mut full = table.clone();
        full.extend(split_key(lhs));
        let depth = common_prefix(&full, &parts);
        if depth == full.len() && depth > best.map_or(0, |b| b.0) {
            best = Some((depth, n + 1));
        } else if depth > table.len() && depth < full.len() {
            // a dotted key that shares a prefix; still a better hint than the header
            if depth > best.map_or(0, |b| b.0) {
                best = Some((depth, n + 1));
            }
        }
        // keys inside an inline table on this line: `lattice = { repeat = [0, 1, 1] }`
        let depth_here = common_prefix(&full, &parts);
        if depth_here == full.len() && depth_here < parts.len() {
            let rest = &parts[depth_here..];
            if rest.iter().all(|p| line.contains(p.as_str())) {
                best = Some((parts.len(), n + 1));
            }
        }
    }
    best.map(|b| b.1)
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

fn common_prefix(a: &[String], b: &[String]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
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
        assert_eq!(line_of_key(DECK, "integrator.missing"), Some(6));
    }
}
