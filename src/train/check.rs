//! The checks of a training deck before anything is loaded (values in range, keys that need
//! each other; each error names the file, line and key), how a `model.init` file's shape
//! differs from the deck's, and the outputs of a study over training runs.

use super::config::{ScheduleKind, ScheduleSpan, StageTwoSection, TrainDeck};
use crate::deck::{DeckError, LoadedDeck};
use crate::io::guard::{check_outputs, NamedPath};
use crate::potential::equivariant::shape::Hyper;
use std::path::Path;

/// Refuses outputs of a study deck (a learning curve, a symmetry study) that are folders or
/// special files or that would overwrite its inputs: the study deck, its base training deck
/// and the files that deck reads. Errors are located at the study deck's `output`.
pub fn study_outputs<D: crate::deck::Versioned>(
    study: &LoadedDeck<D>,
    base: &LoadedDeck<TrainDeck>,
    outputs: &[&Path],
) -> Result<(), DeckError> {
    let t = &base.deck;
    let mut inputs = vec![
        NamedPath::new("the deck", &study.path),
        NamedPath::new("base", &base.path),
        NamedPath::new("data.file of the base deck", base.resolve(&t.data.file)),
    ];
    if let Some(v) = &t.data.validation_file {
        inputs.push(NamedPath::new(
            "data.validation_file of the base deck",
            base.resolve(v),
        ));
    }
    if let Some(i) = &t.model.init {
        inputs.push(NamedPath::new(
            "model.init of the base deck",
            base.resolve(i),
        ));
    }
    let outputs: Vec<NamedPath> = outputs
        .iter()
        .map(|p| NamedPath::new("output", p))
        .collect();
    check_outputs(&outputs, &inputs, &[]).map_err(|r| study.error("output", r.message))
}

/// Refuses a redrawn figure `svg` that is a folder or special file, the study deck or the
/// CSV it is drawn from.
pub fn replot_output<D: crate::deck::Versioned>(
    study: &LoadedDeck<D>,
    svg: &Path,
    csv: &Path,
) -> Result<(), DeckError> {
    let inputs = [
        NamedPath::new("the deck", &study.path),
        NamedPath::new("the CSV", csv),
    ];
    check_outputs(&[NamedPath::new("output", svg)], &inputs, &[])
        .map_err(|r| study.error("output", r.message))
}

/// The keys whose values differ between a model file's shape and a deck's (the average
/// neighbour count aside), as "key file (deck value)".
pub(super) fn shape_differences(file: &Hyper, deck: &Hyper) -> Vec<String> {
    let pairs = [
        (
            "species",
            format!("{:?}", file.species),
            format!("{:?}", deck.species),
        ),
        ("lmax", file.lmax.to_string(), deck.lmax.to_string()),
        (
            "channels",
            file.channels.to_string(),
            deck.channels.to_string(),
        ),
        ("layers", file.layers.to_string(), deck.layers.to_string()),
        ("cutoff", file.cutoff.to_string(), deck.cutoff.to_string()),
        (
            "radial_basis",
            file.radial_basis.to_string(),
            deck.radial_basis.to_string(),
        ),
        (
            "radial_hidden",
            format!("{:?}", file.radial_hidden),
            format!("{:?}", deck.radial_hidden),
        ),
        ("parity", file.parity.to_string(), deck.parity.to_string()),
        (
            "correlation",
            file.correlation.to_string(),
            deck.correlation.to_string(),
        ),
        (
            "layer_readouts",
            file.layer_readouts.to_string(),
            deck.layer_readouts.to_string(),
        ),
        (
            "dipole",
            format!("{:?}", file.dipole),
            format!("{:?}", deck.dipole),
        ),
    ];
    pairs
        .into_iter()
        .filter(|(_, a, b)| a != b)
        .map(|(k, a, b)| format!("{k} {a} (deck: {b})"))
        .collect()
}

/// Every key of the deck in range and consistent with the others; the first error found,
/// located in the deck's file.
pub(super) fn check(deck: &LoadedDeck<TrainDeck>) -> Result<(), DeckError> {
    let d = &deck.deck;
    let positive = [
        ("data.train", d.data.train as f64),
        ("data.validation", d.data.validation as f64),
        ("model.layers", d.model.layers as f64),
        ("optimizer.learning_rate", d.optimizer.learning_rate),
        ("optimizer.batch", d.optimizer.batch as f64),
        ("optimizer.epochs", d.optimizer.epochs as f64),
    ];
    for (key, v) in positive {
        if v <= 0.0 || !v.is_finite() {
            return Err(deck.error(key, format!("must be positive, got {v}")));
        }
    }
    if let Err(e) = d.model.check_shape() {
        return Err(deck.error(&format!("model.{}", e.key()), e.to_string()));
    }
    for (key, v) in [
        ("loss.energy", d.loss.energy),
        ("loss.forces", d.loss.forces),
        ("loss.stress", d.loss.stress),
        ("loss.dipole", d.loss.dipole),
        ("optimizer.clip", d.optimizer.clip),
        ("optimizer.max_minutes", d.optimizer.max_minutes),
        ("optimizer.weight_decay", d.optimizer.weight_decay),
        ("output.checkpoint_seconds", d.output.checkpoint_seconds),
    ] {
        if v < 0.0 || !v.is_finite() {
            return Err(deck.error(key, format!("must be zero or positive, got {v}")));
        }
    }
    let head = d
        .model
        .dipole_head()
        .map_err(|e| deck.error("model.dipole", e))?;
    if d.loss.dipole > 0.0 && head.is_none() {
        return Err(deck.error(
            "loss.dipole",
            "needs a dipole head: set model.dipole = \"charges+dipoles\"",
        ));
    }
    if head.is_some() && d.loss.dipole == 0.0 {
        return Err(deck.error(
            "model.dipole",
            "a dipole head needs loss.dipole > 0 to be trained",
        ));
    }
    if d.model.widen && d.model.init.is_none() {
        return Err(deck.error("model.widen", "widens the model.init file: set model.init"));
    }
    if let Some(two) = &d.stage_two {
        check_stage_two(deck, two)?;
    }
    if !(0.0..1.0).contains(&d.optimizer.ema) {
        return Err(deck.error("optimizer.ema", "must be in [0, 1)"));
    }
    if !(d.schedule.factor > 0.0 && d.schedule.factor <= 1.0) {
        return Err(deck.error("schedule.factor", "must be in (0, 1]"));
    }
    if d.schedule.over == ScheduleSpan::Minutes {
        if d.schedule.kind != ScheduleKind::Cosine {
            return Err(deck.error("schedule.over", "\"minutes\" needs kind = \"cosine\""));
        }
        if d.optimizer.max_minutes <= 0.0 {
            return Err(deck.error(
                "schedule.over",
                "\"minutes\" needs a time limit: set optimizer.max_minutes",
            ));
        }
    }
    if !(d.schedule.min > 0.0 && d.schedule.min <= d.optimizer.learning_rate) {
        return Err(deck.error(
            "schedule.min",
            "must be positive and at most the learning rate",
        ));
    }
    Ok(())
}

/// Stage two's keys: a start inside the budget, a positive rate, weights ≥ 0 and a loss
/// that still has a term.
fn check_stage_two(deck: &LoadedDeck<TrainDeck>, two: &StageTwoSection) -> Result<(), DeckError> {
    if !(two.start > 0.0 && two.start < 1.0) {
        let msg = format!(
            "must be a fraction of the budget in (0, 1), got {}",
            two.start
        );
        return Err(deck.error("stage_two.start", msg));
    }
    if !(two.learning_rate > 0.0 && two.learning_rate.is_finite()) {
        let msg = format!("must be positive, got {}", two.learning_rate);
        return Err(deck.error("stage_two.learning_rate", msg));
    }
    for (key, v) in [
        ("stage_two.energy", two.energy),
        ("stage_two.forces", two.forces),
        ("stage_two.stress", two.stress),
        ("stage_two.dipole", two.dipole),
    ] {
        if let Some(v) = v.filter(|v| *v < 0.0 || !v.is_finite()) {
            return Err(deck.error(key, format!("must be zero or positive, got {v}")));
        }
    }
    let l = two.loss(&deck.deck.loss);
    if l.energy + l.forces + l.stress + l.dipole == 0.0 {
        return Err(deck.error("stage_two", "every loss weight of stage two is zero"));
    }
    Ok(())
}
