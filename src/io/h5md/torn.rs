//! Which frames of an H5MD file a run left whole. eqmd flushes after every frame, but a run
//! killed during HDF5's flush can leave the last frame half there: a dataset's extent grown
//! while the frame's chunk was never written (it reads as the fill value), a chunk written
//! past the end of the file the superblock records (HDF5 and h5py refuse it: "addr
//! overflow"), or a `step` row left at its fill value. Readers count only the frames before
//! such a tail.

use super::PARTICLE_ELEMENTS;
use crate::system::MAX_ATOMS;
use hdf5::{Dataset, File, Hyperslab, SliceOrIndex};

/// The most trailing frames a reader gives up: eqmd's writer can leave one torn frame (it
/// flushes each), other writers a few; past this many, damage is reported, not skipped.
const MAX_TORN_FRAMES: usize = 8;

/// The particle datasets that grow with time: `step`, `time` and `value` of every element
/// under `/particles/all`.
fn time_datasets(file: &File) -> Vec<Dataset> {
    let all = |name: &str| file.group(&format!("particles/all/{name}")).ok();
    PARTICLE_ELEMENTS
        .iter()
        .filter_map(|name| all(name))
        .flat_map(|g| {
            ["step", "time", "value"]
                .into_iter()
                .filter_map(move |d| g.dataset(d).ok())
        })
        .collect()
}

/// Frames present in every time-dependent dataset under `/particles/all` that were
/// written whole: their chunks written and readable, their steps rising.
pub(super) fn complete_frames(file: &File) -> usize {
    let datasets = time_datasets(file);
    let listed = datasets.iter().map(frames_held).min().unwrap_or(0);
    // a frame declared with more atoms than a system may hold is refused when it is read
    let oversized = (datasets.iter()).any(|d| d.ndim() == 3 && d.shape()[1] > MAX_ATOMS);
    if oversized {
        return listed;
    }
    let steps: Vec<&Dataset> = (datasets.iter())
        .filter(|d| d.name().ends_with("/step"))
        .collect();
    let whole = |k: usize| {
        datasets.iter().all(|d| frame_reads(d, k)) && steps.iter().all(|d| rises::<i64>(d, k))
    };
    whole_prefix(listed, whole)
}

/// Rows of a series (`time` and `value` of an observable) written whole: held by both,
/// readable, the times rising. A killed run's last row may be none of these.
pub(super) fn complete_rows(time: &Dataset, value: &Dataset) -> usize {
    let listed = frames_held(time).min(frames_held(value));
    let whole = |k: usize| frame_reads(time, k) && frame_reads(value, k) && rises::<f64>(time, k);
    whole_prefix(listed, whole)
}

/// The `listed` frames less those at the end that are not `whole`, at most
/// [`MAX_TORN_FRAMES`] of them.
fn whole_prefix(listed: usize, whole: impl Fn(usize) -> bool) -> usize {
    let mut n = listed;
    while n > 0 && listed - n < MAX_TORN_FRAMES && !whole(n - 1) {
        n -= 1;
    }
    n
}

/// Frames a time-dependent dataset holds: its extent, and for one stored a frame per chunk
/// no more than the chunks written.
pub(super) fn frames_held(d: &Dataset) -> usize {
    let listed = d.shape().first().copied().unwrap_or(0);
    match d.chunk() {
        Some(c) if c.first() == Some(&1) => listed.min(d.num_chunks().unwrap_or(listed)),
        _ => listed,
    }
}

/// Whether frame `k` of a time-dependent dataset (rank 1 to 3) can be read, tried on its
/// first number only: a chunk written past the recorded end lies wholly past it.
fn frame_reads(d: &Dataset, k: usize) -> bool {
    let sel: Vec<SliceOrIndex> = match d.ndim() {
        1 => vec![(k..k + 1).into()],
        2 => vec![k.into(), (0..1).into()],
        3 => vec![k.into(), 0.into(), (0..1).into()],
        _ => return false,
    };
    d.read_slice_1d::<f64, _>(Hyperslab::from(sel)).is_ok()
}

/// Whether row `k` of a step or time dataset is above row k − 1 (a row a killed run never
/// wrote reads as the fill value: step −1 and time NaN in files eqmd writes now, 0 in older
/// ones).
fn rises<T: hdf5::H5Type + PartialOrd>(d: &Dataset, k: usize) -> bool {
    k == 0 || (d.read_slice_1d::<T, _>(k - 1..k + 1)).is_ok_and(|s| s[1] > s[0])
}
