//! Readers for LAMMPS EAM potential files: `funcfl` (`pair_style eam`, one element per
//! file, e.g. `Cu_u3.eam`) and `setfl` (`pair_style eam/alloy`, several elements). Numbers
//! may wrap across lines freely; errors name the file and line.

use std::path::Path;

/// One element of a `funcfl` file: embedding F(ρ), effective charge Z(r) and density ρ(r)
/// on their grids.
#[derive(Clone, Debug, PartialEq)]
pub struct Funcfl {
    pub atomic_number: f64,
    pub mass: f64,
    pub nrho: usize,
    pub drho: f64,
    pub nr: usize,
    pub dr: f64,
    pub cutoff: f64,
    pub frho: Vec<f64>,
    pub zr: Vec<f64>,
    pub rhor: Vec<f64>,
}

/// One element of a `setfl` file.
#[derive(Clone, Debug, PartialEq)]
pub struct SetflElement {
    pub name: String,
    pub atomic_number: f64,
    pub mass: f64,
    pub frho: Vec<f64>,
    pub rhor: Vec<f64>,
}

/// A `setfl` file: elements on shared grids and r·φ(r) for every element pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Setfl {
    pub nrho: usize,
    pub drho: f64,
    pub nr: usize,
    pub dr: f64,
    pub cutoff: f64,
    pub elements: Vec<SetflElement>,
    /// r·φ(r) for pair (i, j), i ≥ j, at index i(i+1)/2 + j.
    pub z2r: Vec<Vec<f64>>,
}

/// A problem in a potential file.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.render())]
pub struct EamFileError {
    pub file: String,
    /// 1-based line; 0 when the file could not be read at all.
    pub line: usize,
    pub message: String,
}

impl EamFileError {
    fn render(&self) -> String {
        if self.line == 0 {
            format!("{}: {}", self.file, self.message)
        } else {
            format!("{}:{}: {}", self.file, self.line, self.message)
        }
    }
}

/// Whitespace-separated tokens with the line each came from.
struct Tokens<'a> {
    file: String,
    tokens: Vec<(usize, &'a str)>,
    next: usize,
    last_line: usize,
}

impl<'a> Tokens<'a> {
    fn new(file: &str, text: &'a str, skip_lines: usize) -> Tokens<'a> {
        let mut tokens = Vec::new();
        let mut last_line = 0;
        for (n, line) in text.lines().enumerate().skip(skip_lines) {
            last_line = n + 1;
            tokens.extend(line.split_whitespace().map(|t| (n + 1, t)));
        }
        Tokens {
            file: file.to_string(),
            tokens,
            next: 0,
            last_line,
        }
    }

    fn error(&self, line: usize, message: String) -> EamFileError {
        EamFileError {
            file: self.file.clone(),
            line,
            message,
        }
    }

    fn word(&mut self, what: &str) -> Result<(usize, &'a str), EamFileError> {
        let t = self.tokens.get(self.next).copied().ok_or_else(|| {
            self.error(
                self.last_line + 1,
                format!("the file ends where {what} was expected (truncated?)"),
            )
        })?;
        self.next += 1;
        Ok(t)
    }

    fn number(&mut self, what: &str) -> Result<f64, EamFileError> {
        let (line, t) = self.word(what)?;
        // Fortran-style exponents (1.0D-3) appear in older files
        let v: f64 = t
            .replace(['D', 'd'], "e")
            .parse()
            .map_err(|_| self.error(line, format!("{what}: `{t}` is not a number")))?;
        if !v.is_finite() {
            return Err(self.error(line, format!("{what}: `{t}` is not finite")));
        }
        Ok(v)
    }

    fn count(&mut self, what: &str) -> Result<usize, EamFileError> {
        let (line, t) = self.word(what)?;
        match t.parse::<usize>() {
            Ok(n) if n >= 5 => Ok(n),
            _ => Err(self.error(line, format!("{what}: `{t}` is not a count of at least 5"))),
        }
    }

    fn positive(&mut self, what: &str) -> Result<f64, EamFileError> {
        let line = self.tokens.get(self.next).map_or(self.last_line, |t| t.0);
        let v = self.number(what)?;
        if v <= 0.0 {
            return Err(self.error(line, format!("{what} must be positive, got {v}")));
        }
        Ok(v)
    }

    /// Skips what is left of the line of the last token read: a header line says what it
    /// must in its first words, and LAMMPS ignores the rest (a lattice constant and type,
    /// a trailing comment), so the tables always start on the next line.
    fn end_line(&mut self) {
        let Some(line) = self.next.checked_sub(1).map(|k| self.tokens[k].0) else {
            return;
        };
        while self.tokens.get(self.next).is_some_and(|t| t.0 == line) {
            self.next += 1;
        }
    }

    /// The words left on the line of the last token read.
    fn rest_of_line(&self) -> usize {
        let Some(line) = self.next.checked_sub(1).map(|k| self.tokens[k].0) else {
            return 0;
        };
        self.tokens[self.next..]
            .iter()
            .take_while(|t| t.0 == line)
            .count()
    }

    fn numbers(&mut self, n: usize, what: &str) -> Result<Vec<f64>, EamFileError> {
        (0..n)
            .map(|k| self.number(&format!("{what} value {}", k + 1)))
            .collect()
    }
}

fn read(path: &Path) -> Result<String, EamFileError> {
    if let Some(kind) = crate::file_kind::not_a_file(path) {
        return Err(EamFileError {
            file: path.display().to_string(),
            line: 0,
            message: format!("{kind}, not a potential file"),
        });
    }
    std::fs::read_to_string(path).map_err(|e| EamFileError {
        file: path.display().to_string(),
        line: 0,
        message: format!("cannot read the potential file: {e}"),
    })
}

/// Grid header shared by both formats: nrho drho nr dr cutoff.
fn grid(t: &mut Tokens) -> Result<(usize, f64, usize, f64, f64), EamFileError> {
    let grid = (
        t.count("nrho")?,
        t.positive("drho")?,
        t.count("nr")?,
        t.positive("dr")?,
        t.positive("cutoff")?,
    );
    t.end_line();
    Ok(grid)
}

/// Parses a `funcfl` file: a comment line, `Z mass [a lattice]`, the grid, then F(ρ), Z(r)
/// and ρ(r). As LAMMPS reads them, the two header lines need only their first words (two,
/// then five); the rest of each is ignored.
pub fn parse_funcfl(text: &str, file: &str) -> Result<Funcfl, EamFileError> {
    let mut t = Tokens::new(file, text, 1);
    let atomic_number = t.number("atomic number")?;
    let mass = t.positive("mass")?;
    t.end_line();
    let (nrho, drho, nr, dr, cutoff) = grid(&mut t)?;
    let frho = t.numbers(nrho, "F(rho)")?;
    let zr = t.numbers(nr, "Z(r)")?;
    let rhor = t.numbers(nr, "rho(r)")?;
    Ok(Funcfl {
        atomic_number,
        mass,
        nrho,
        drho,
        nr,
        dr,
        cutoff,
        frho,
        zr,
        rhor,
    })
}

/// Reads a `funcfl` file from disk.
pub fn read_funcfl(path: &Path) -> Result<Funcfl, EamFileError> {
    parse_funcfl(&read(path)?, &path.display().to_string())
}

/// Parses a `setfl` file: three comment lines, `N el1 .. elN`, the grid, per element
/// `Z mass [a lattice]` with F(ρ) and ρ(r), then r·φ(r) for every pair i ≥ j. Header lines
/// are read as LAMMPS reads them: their first words, the rest ignored.
pub fn parse_setfl(text: &str, file: &str) -> Result<Setfl, EamFileError> {
    let mut t = Tokens::new(file, text, 3);
    let (line, count) = t.word("the number of elements")?;
    let n: usize = match count.parse() {
        Ok(n) if n >= 1 => n,
        _ => return Err(t.error(line, format!("`{count}` is not a number of elements"))),
    };
    // as in LAMMPS, the line holds the count and exactly that many names
    let given = t.rest_of_line();
    if given != n {
        return Err(t.error(
            line,
            format!("{n} elements, but {given} element names follow on the line"),
        ));
    }
    let mut names = Vec::with_capacity(n);
    for k in 0..n {
        let (_, name) = t.word(&format!("element name {}", k + 1))?;
        names.push(name.to_string());
    }
    let (nrho, drho, nr, dr, cutoff) = grid(&mut t)?;
    let mut elements = Vec::with_capacity(n);
    for name in names {
        let atomic_number = t.number(&format!("{name}: atomic number"))?;
        let mass = t.positive(&format!("{name}: mass"))?;
        // the lattice constant and type that follow are not used
        t.end_line();
        let frho = t.numbers(nrho, &format!("{name}: F(rho)"))?;
        let rhor = t.numbers(nr, &format!("{name}: rho(r)"))?;
        elements.push(SetflElement {
            name,
            atomic_number,
            mass,
            frho,
            rhor,
        });
    }
    let mut z2r = Vec::new();
    for i in 0..n {
        for j in 0..=i {
            let what = format!("r*phi(r) of {}-{}", elements[i].name, elements[j].name);
            z2r.push(t.numbers(nr, &what)?);
        }
    }
    Ok(Setfl {
        nrho,
        drho,
        nr,
        dr,
        cutoff,
        elements,
        z2r,
    })
}

/// Reads a `setfl` file from disk.
pub fn read_setfl(path: &Path) -> Result<Setfl, EamFileError> {
    parse_setfl(&read(path)?, &path.display().to_string())
}
