//! Quantities with units in decks: `timestep = "2 fs"`, `temperature = "300 K"`,
//! `cutoff = "5 A"`. A bare number is already in the deck's unit system; a string is
//! converted when the deck is read, and a unit of the wrong dimension is an error.

use crate::units::Units;
use serde::Deserialize;

/// A deck value that is a bare number or a number with a unit.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(untagged)]
pub enum Quantity {
    Number(f64),
    Text(String),
}

/// What a quantity measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    Length,
    InverseLength,
    Time,
    Energy,
    Temperature,
    Mass,
    Pressure,
    InversePressure,
    Force,
}

impl Dimension {
    fn name(self) -> &'static str {
        match self {
            Dimension::Length => "a length",
            Dimension::InverseLength => "an inverse length",
            Dimension::Time => "a time",
            Dimension::Energy => "an energy",
            Dimension::Temperature => "a temperature",
            Dimension::Mass => "a mass",
            Dimension::Pressure => "a pressure",
            Dimension::InversePressure => "an inverse pressure (a compressibility)",
            Dimension::Force => "a force",
        }
    }
}

/// Known unit symbols: dimension and factor to metal units (Å, ps, eV, K, amu, bar).
const UNITS: &[(&str, Dimension, f64)] = &[
    ("A", Dimension::Length, 1.0),
    ("Å", Dimension::Length, 1.0),
    ("angstrom", Dimension::Length, 1.0),
    ("nm", Dimension::Length, 10.0),
    ("pm", Dimension::Length, 0.01),
    ("bohr", Dimension::Length, 0.529_177_210_903),
    ("1/A", Dimension::InverseLength, 1.0),
    ("1/Å", Dimension::InverseLength, 1.0),
    ("A^-1", Dimension::InverseLength, 1.0),
    ("1/nm", Dimension::InverseLength, 0.1),
    ("fs", Dimension::Time, 1e-3),
    ("ps", Dimension::Time, 1.0),
    ("ns", Dimension::Time, 1e3),
    ("eV", Dimension::Energy, 1.0),
    ("meV", Dimension::Energy, 1e-3),
    ("kcal/mol", Dimension::Energy, 0.043_364_1),
    ("kJ/mol", Dimension::Energy, 0.010_364_27),
    ("Ha", Dimension::Energy, 27.211_386_245_988),
    ("hartree", Dimension::Energy, 27.211_386_245_988),
    ("Ry", Dimension::Energy, 13.605_693_122_994),
    ("K", Dimension::Temperature, 1.0),
    ("amu", Dimension::Mass, 1.0),
    ("u", Dimension::Mass, 1.0),
    ("Da", Dimension::Mass, 1.0),
    ("g/mol", Dimension::Mass, 1.0),
    ("eV/A", Dimension::Force, 1.0),
    ("eV/Å", Dimension::Force, 1.0),
    ("eV/angstrom", Dimension::Force, 1.0),
    ("bar", Dimension::Pressure, 1.0),
    ("kbar", Dimension::Pressure, 1e3),
    ("atm", Dimension::Pressure, 1.013_25),
    ("Pa", Dimension::Pressure, 1e-5),
    ("MPa", Dimension::Pressure, 10.0),
    ("GPa", Dimension::Pressure, 1e4),
    ("1/bar", Dimension::InversePressure, 1.0),
    ("1/kbar", Dimension::InversePressure, 1e-3),
    ("1/atm", Dimension::InversePressure, 1.0 / 1.013_25),
    ("1/Pa", Dimension::InversePressure, 1e5),
    ("1/MPa", Dimension::InversePressure, 0.1),
    ("1/GPa", Dimension::InversePressure, 1e-4),
];

impl Quantity {
    /// The value in the deck's unit system, if the unit fits `dimension`.
    pub fn value(&self, units: Units, dimension: Dimension) -> Result<f64, String> {
        let text = match self {
            Quantity::Number(v) => return Ok(*v),
            Quantity::Text(t) => t.trim(),
        };
        let split = text
            .find(|c: char| c.is_whitespace() || (c.is_alphabetic() && c != 'e' && c != 'E'))
            .unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: f64 = number.trim().parse().map_err(|_| {
            format!("`{text}` is not a number with a unit, such as \"2 fs\" or \"300 K\"")
        })?;
        let unit = unit.trim();
        if unit.is_empty() {
            return Ok(number);
        }
        let &(_, dim, factor) = UNITS.iter().find(|(u, _, _)| *u == unit).ok_or_else(|| {
            let known: Vec<&str> = UNITS
                .iter()
                .filter(|(_, d, _)| *d == dimension)
                .map(|(u, _, _)| *u)
                .collect();
            format!(
                "unknown unit `{unit}` in `{text}` ({} takes {})",
                dimension.name(),
                known.join(", ")
            )
        })?;
        if dim != dimension {
            return Err(format!(
                "`{text}` is {}, but {} is expected here",
                dim.name(),
                dimension.name()
            ));
        }
        match units {
            Units::Metal => Ok(number * factor),
            Units::Lj => Err(format!(
                "`{text}` has a unit, but lj units are reduced: give a bare number"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(s: &str) -> Quantity {
        Quantity::Text(s.into())
    }

    #[test]
    fn converts_units_to_metal() {
        let m = Units::Metal;
        assert_eq!(q("2 fs").value(m, Dimension::Time), Ok(0.002));
        assert_eq!(q("2fs").value(m, Dimension::Time), Ok(0.002));
        assert_eq!(q("300 K").value(m, Dimension::Temperature), Ok(300.0));
        assert_eq!(q("0.5 nm").value(m, Dimension::Length), Ok(5.0));
        assert_eq!(q("1e-3 ps").value(m, Dimension::Time), Ok(1e-3));
        assert_eq!(q("1.5").value(m, Dimension::Length), Ok(1.5));
        assert_eq!(
            Quantity::Number(4.0).value(Units::Lj, Dimension::Length),
            Ok(4.0)
        );
    }

    #[test]
    fn rejects_wrong_dimension_unknown_unit_and_units_in_lj() {
        let e = q("300 K").value(Units::Metal, Dimension::Time).unwrap_err();
        assert!(
            e.contains("is a temperature, but a time is expected"),
            "{e}"
        );
        let e = q("2 fortnights")
            .value(Units::Metal, Dimension::Time)
            .unwrap_err();
        assert!(e.contains("unknown unit `fortnights`"), "{e}");
        let e = q("2 fs").value(Units::Lj, Dimension::Time).unwrap_err();
        assert!(e.contains("lj units are reduced"), "{e}");
        let e = q("fast").value(Units::Metal, Dimension::Time).unwrap_err();
        assert!(e.contains("not a number"), "{e}");
    }
}
