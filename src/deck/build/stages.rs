//! The run's plan: the stages a deck runs in order. A single-stage deck (`[integrator]`
//! with its thermostat and barostat, and perhaps a `[minimize]` before it) is a plan of
//! one or two stages; `[[stage]]` blocks give any sequence of minimisations and dynamics,
//! their steps counted on one clock from 0.

use super::integrator::{build_dynamics, deck_timestep, DynamicsSpec};
use super::{positive, positive_quantity, quantity};
use crate::deck::quantity::Dimension;
use crate::deck::schema::{CellRelax, MinimizeAlgorithm, MinimizeSection, StageSection};
use crate::deck::{DeckError, LoadedDeck};
use crate::integrate::Integrator;
use crate::units::Units;

/// A minimisation as the deck asks for it, in the system's units.
#[derive(Clone, Debug, PartialEq)]
pub struct MinimizeStage {
    pub algorithm: MinimizeAlgorithm,
    pub cell: CellRelax,
    pub pressure: f64,
    pub fmax: f64,
    pub smax: f64,
    pub max_iterations: usize,
    pub max_step: f64,
    /// Iterations between log lines.
    pub every: usize,
}

/// What a stage does.
pub enum StageKind {
    /// Relax the structure (and the cell).
    Minimize(MinimizeStage),
    /// Dynamics under `integrator` up to step `end` of the run's clock.
    Dynamics {
        integrator: Box<dyn Integrator>,
        end: u64,
    },
}

/// One stage of the plan.
pub struct Stage {
    /// For logs: the deck's name or `stage N`.
    pub name: String,
    pub kind: StageKind,
}

impl Stage {
    /// True if this stage changes the cell (a barostat, a relaxing cell).
    pub fn changes_cell(&self) -> bool {
        match &self.kind {
            StageKind::Minimize(m) => m.cell != CellRelax::None,
            StageKind::Dynamics { integrator, .. } => integrator.changes_cell(),
        }
    }
}

/// The deck's stages, checked.
pub fn build_stages(deck: &LoadedDeck) -> Result<Vec<Stage>, DeckError> {
    let d = &deck.deck;
    if d.stages.is_empty() {
        return single_stage(deck);
    }
    for (key, given) in [
        ("thermostat", d.thermostat.is_some()),
        ("barostat", d.barostat.is_some()),
        ("minimize", d.minimize.is_some()),
        (
            "integrator.steps",
            d.integrator.as_ref().is_some_and(|i| i.steps.is_some()),
        ),
    ] {
        if given {
            return Err(deck.error(
                key,
                "with [[stage]] blocks this belongs in each stage (the top-level [integrator] \
                 may give only the timestep and limits the stages share)",
            ));
        }
    }
    let timestep = deck_timestep(deck)?;
    let mut end = 0u64;
    let mut stages = Vec::new();
    for (k, s) in d.stages.iter().enumerate() {
        let prefix = format!("stage[{k}].");
        let name = s.name.clone().unwrap_or_else(|| format!("stage {}", k + 1));
        stages.push(Stage {
            name,
            kind: stage_kind(deck, s, &prefix, timestep, k as u64, &mut end)?,
        });
    }
    Ok(stages)
}

/// One `[[stage]]` block: a minimisation or dynamics, advancing the clock to `end`.
fn stage_kind(
    deck: &LoadedDeck,
    s: &StageSection,
    prefix: &str,
    timestep: Option<f64>,
    index: u64,
    end: &mut u64,
) -> Result<StageKind, DeckError> {
    let key = |k: &str| format!("{prefix}{k}");
    if let Some(m) = &s.minimize {
        for (k, given) in [
            ("steps", s.steps.is_some()),
            ("thermostat", s.thermostat.is_some()),
            ("barostat", s.barostat.is_some()),
            ("timestep", s.timestep.is_some()),
        ] {
            if given {
                return Err(deck.error(&key(k), "a minimisation stage takes no dynamics settings"));
            }
        }
        return Ok(StageKind::Minimize(minimize_stage(
            deck,
            m,
            &key("minimize."),
        )?));
    }
    let steps = s.steps.ok_or_else(|| {
        deck.error(
            prefix.trim_end_matches('.'),
            "a stage needs `steps` (dynamics) or `minimize`",
        )
    })?;
    let timestep = match &s.timestep {
        Some(q) => positive_quantity(deck, &key("timestep"), q, Dimension::Time)?,
        None => timestep.ok_or_else(|| {
            deck.error(
                &key("timestep"),
                "missing: give it here or as integrator.timestep",
            )
        })?,
    };
    *end = end
        .checked_add(steps)
        .ok_or_else(|| deck.error(&key("steps"), "too many steps in all"))?;
    let integrator = build_dynamics(
        deck,
        &DynamicsSpec {
            prefix: prefix.to_string(),
            timestep,
            thermostat: s.thermostat.as_ref(),
            barostat: s.barostat.as_ref(),
            stage: index,
        },
    )?;
    Ok(StageKind::Dynamics {
        integrator,
        end: *end,
    })
}

/// The plan of a deck without `[[stage]]` blocks.
fn single_stage(deck: &LoadedDeck) -> Result<Vec<Stage>, DeckError> {
    let d = &deck.deck;
    let mut stages = Vec::new();
    if let Some(m) = &d.minimize {
        stages.push(Stage {
            name: "minimize".into(),
            kind: StageKind::Minimize(minimize_stage(deck, m, "minimize.")?),
        });
    }
    match &d.integrator {
        Some(i) => {
            let end = i
                .steps
                .ok_or_else(|| deck.error("integrator.steps", "missing: the step to run to"))?;
            stages.push(Stage {
                name: "dynamics".into(),
                kind: StageKind::Dynamics {
                    integrator: super::build_integrator(deck)?,
                    end,
                },
            });
        }
        None if stages.is_empty() => return Err(deck.error(
            "",
            "the deck runs nothing: give [integrator] (dynamics), [minimize] or [[stage]] blocks",
        )),
        None => {
            if d.thermostat.is_some() || d.barostat.is_some() {
                let key = if d.thermostat.is_some() {
                    "thermostat"
                } else {
                    "barostat"
                };
                return Err(deck.error(key, "needs [integrator] with its timestep and steps"));
            }
        }
    }
    Ok(stages)
}

/// A `[minimize]` section (at `prefix`), with the defaults of the unit system.
fn minimize_stage(
    deck: &LoadedDeck,
    m: &MinimizeSection,
    prefix: &str,
) -> Result<MinimizeStage, DeckError> {
    let key = |k: &str| format!("{prefix}{k}");
    let lj = deck.deck.units == Units::Lj;
    let pressure = match &m.pressure {
        Some(q) => {
            let p = quantity(deck, &key("pressure"), q, Dimension::Pressure)?;
            if !p.is_finite() {
                return Err(deck.error(
                    &key("pressure"),
                    format!("must be a finite number, got {p}"),
                ));
            }
            p
        }
        None => 0.0,
    };
    let fmax = match &m.fmax {
        Some(q) => positive_quantity(deck, &key("fmax"), q, Dimension::Force)?,
        None => 1e-4,
    };
    let smax = match &m.smax {
        Some(q) => positive_quantity(deck, &key("smax"), q, Dimension::Pressure)?,
        None if lj => 1e-5,
        None => 0.01,
    };
    let max_step = match &m.max_step {
        Some(q) => positive_quantity(deck, &key("max_step"), q, Dimension::Length)?,
        None => 0.1,
    };
    let max_iterations = m.max_iterations.unwrap_or(10_000);
    positive(deck, &key("max_iterations"), max_iterations as f64)?;
    let every = m.every.unwrap_or(1);
    positive(deck, &key("every"), every as f64)?;
    Ok(MinimizeStage {
        algorithm: m.algorithm,
        cell: m.cell,
        pressure,
        fmax,
        smax,
        max_iterations,
        max_step,
        every,
    })
}
