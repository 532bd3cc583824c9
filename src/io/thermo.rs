//! Thermo output: a CSV with LAMMPS thermo names and a readable table on stdout; when the
//! cell can change (a barostat, a relaxing cell) the CSV has the volume `vol`, and with a
//! potential that predicts a dipole its components `mux,muy,muz`.

use crate::state::Thermo;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

/// Column header of the CSV, in LAMMPS's thermo names.
pub const CSV_HEADER: &str = "step,time,pe,ke,etotal,temp,press";
/// The dipole's columns, after the others when the potential predicts one.
pub const DIPOLE_COLUMNS: &str = "mux,muy,muz";
/// The volume's column, after `press` when the cell can change.
pub const VOLUME_COLUMN: &str = "vol";

/// The optional columns of a thermo CSV.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Columns {
    /// The cell's volume (`vol`), for runs whose cell can change.
    pub volume: bool,
    /// The dipole moment (`mux,muy,muz`), for potentials that predict one.
    pub dipole: bool,
}

impl Columns {
    /// The CSV header line these columns give.
    pub fn header(&self) -> String {
        let mut h = CSV_HEADER.to_string();
        if self.volume {
            h += ",";
            h += VOLUME_COLUMN;
        }
        if self.dipole {
            h += ",";
            h += DIPOLE_COLUMNS;
        }
        h
    }
}

/// Writes thermo rows to a CSV file (flushed every row) and optionally to stdout.
pub struct ThermoLog {
    csv: BufWriter<File>,
    echo: bool,
    rows: usize,
    /// Energies are divided by it: 1 for totals, the atom count for energies per atom.
    divisor: f64,
    /// The optional columns rows carry.
    columns: Columns,
    /// The step of the last row in the file (None: no row yet).
    last_step: Option<u64>,
}

impl ThermoLog {
    /// Creates (truncates) the CSV at `path` with the optional `columns`; `echo` also
    /// prints a table on stdout.
    pub fn create(path: &Path, echo: bool, columns: Columns) -> std::io::Result<ThermoLog> {
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir)?;
            }
        }
        let mut csv = BufWriter::new(File::create(path)?);
        writeln!(csv, "{}", columns.header())?;
        Ok(ThermoLog {
            csv,
            echo,
            rows: 0,
            divisor: 1.0,
            columns,
            last_step: None,
        })
    }

    /// Continues the CSV at `path` for a run restarted at step `upto`: rows written after
    /// it (by a run killed after its last checkpoint) and rows cut short (by a kill in the
    /// middle of a row) are dropped, then rows are appended (with the optional `columns`,
    /// which must be the file's).
    pub fn append(
        path: &Path,
        echo: bool,
        upto: u64,
        columns: Columns,
    ) -> std::io::Result<ThermoLog> {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.trim().is_empty() {
            return ThermoLog::create(path, echo, columns);
        }
        // a last line without its newline was cut short, whatever it holds
        let whole = match text.rfind('\n') {
            Some(end) if !text.ends_with('\n') => &text[..=end],
            _ => text.as_str(),
        };
        let mut lines = whole.lines();
        let header = lines.next().unwrap_or("");
        let width = header.split(',').count();
        let step_of = |line: &str| line.split(',').next()?.trim().parse::<u64>().ok();
        let complete = |line: &str| {
            let cells: Vec<&str> = line.split(',').collect();
            cells.len() == width && cells.iter().all(|c| !c.trim().is_empty())
        };
        let rows: Vec<&str> = lines
            .filter(|l| step_of(l).is_some_and(|step| step <= upto) && complete(l))
            .collect();
        let last_step = rows.last().and_then(|l| step_of(l));
        let kept: String = std::iter::once(header)
            .chain(rows)
            .map(|line| format!("{line}\n"))
            .collect();
        if kept.len() != text.len() {
            std::fs::write(path, &kept)?;
        }
        if header.trim() != columns.header() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("its columns `{header}` are not this run's"),
            ));
        }
        let file = std::fs::OpenOptions::new().append(true).open(path)?;
        Ok(ThermoLog {
            csv: BufWriter::new(file),
            echo,
            rows: 0,
            divisor: 1.0,
            columns,
            last_step,
        })
    }

    /// The step of the last row in the file, if it has one.
    pub fn last_step(&self) -> Option<u64> {
        self.last_step
    }

    /// Writes energies per atom of a system of `atoms` atoms (LAMMPS's `norm yes`)
    /// instead of totals.
    pub fn per_atom(mut self, atoms: usize) -> ThermoLog {
        self.divisor = atoms.max(1) as f64;
        self
    }

    /// Appends one row.
    pub fn write(&mut self, t: &Thermo) -> std::io::Result<()> {
        let n = self.divisor;
        let (pe, ke, etotal) = (t.pe / n, t.ke / n, t.etotal / n);
        write!(
            self.csv,
            "{},{:e},{:e},{:e},{:e},{:e},{:e}",
            t.step, t.time, pe, ke, etotal, t.temp, t.press
        )?;
        if self.columns.volume {
            write!(self.csv, ",{:e}", t.volume)?;
        }
        if self.columns.dipole {
            let m = t.dipole.unwrap_or(glam::DVec3::NAN);
            write!(self.csv, ",{:e},{:e},{:e}", m.x, m.y, m.z)?;
        }
        writeln!(self.csv)?;
        self.csv.flush()?;
        self.last_step = Some(t.step);
        if self.echo {
            if self.rows % 20 == 0 {
                println!(
                    "{:>10} {:>12} {:>16} {:>16} {:>16} {:>12} {:>14}",
                    "Step", "Time", "PotEng", "KinEng", "TotEng", "Temp", "Press"
                );
            }
            println!(
                "{:>10} {:>12.5} {:>16.8} {:>16.8} {:>16.8} {:>12.6} {:>14.6}",
                t.step, t.time, pe, ke, etotal, t.temp, t.press
            );
        }
        self.rows += 1;
        Ok(())
    }
}

/// Reads a thermo CSV back into rows (for tests and analysis), by its header's columns.
pub fn read_csv(path: &Path) -> anyhow::Result<Vec<Thermo>> {
    let text = std::fs::read_to_string(path)?;
    let header: Vec<&str> = text.lines().next().unwrap_or("").split(',').collect();
    let column = |name: &str| header.iter().position(|h| h.trim() == name);
    let base: Vec<usize> = CSV_HEADER
        .split(',')
        .map(|name| {
            column(name).ok_or_else(|| {
                anyhow::anyhow!("{}:1: no `{name}` column in the header", path.display())
            })
        })
        .collect::<anyhow::Result<_>>()?;
    let vol = column(VOLUME_COLUMN);
    let mu = column("mux");
    let mut rows = Vec::new();
    for (n, line) in text.lines().enumerate().skip(1) {
        let v: Vec<f64> = line
            .split(',')
            .map(|x| x.trim().parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!("{}:{}: {e}", path.display(), n + 1))?;
        if v.len() != header.len() {
            anyhow::bail!(
                "{}:{}: {} values under a header of {} columns",
                path.display(),
                n + 1,
                v.len(),
                header.len()
            );
        }
        rows.push(Thermo {
            step: v[base[0]] as u64,
            time: v[base[1]],
            pe: v[base[2]],
            ke: v[base[3]],
            etotal: v[base[4]],
            temp: v[base[5]],
            press: v[base[6]],
            conserved: v[base[4]],
            volume: vol.map_or(f64::NAN, |k| v[k]),
            dipole: mu.map(|k| glam::DVec3::new(v[k], v[k + 1], v[k + 2])),
        });
    }
    Ok(rows)
}
