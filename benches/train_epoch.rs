//! Training throughput on revised-MD17 ethanol at the reference size of the PyTorch anchor
//! (the shipped training deck with its model set to L = 2, 32 channels, 3 layers, ν = 1,
//! parity, r_c = 5 Å, radial MLP [64, 64]): frames per second of the exact loss
//! gradient (energy and force terms; one f64 pass for the forces, one dual-number pass for
//! the weight gradient), one frame at a time, a mini-batch of frames in parallel, a
//! mini-batch merged into one graph (as the trainer does on one thread), and a whole epoch
//! of 50 frames through the trainer (Adam, moving average, validation, checkpoint).
//! Multiply by 950/50 for an rMD17 epoch.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use eqmd::potential::equivariant::network::Evaluator;
use eqmd::potential::equivariant::parameters::ParameterLayout;
use eqmd::potential::Scratch;
use eqmd::train::loss::{batch_gradient, frame_gradient, LossWeights, Sample};
use eqmd::train::trainer::Training;
use rayon::prelude::*;
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

const FRAMES: usize = 50;

fn training(dir: &Path) -> Training {
    let root = env!("CARGO_MANIFEST_DIR");
    let deck = Path::new(root).join("inputs/training/ethanol.toml");
    let out = dir.display();
    let overrides = [
        format!("data.train={FRAMES}"),
        "data.validation=10".to_string(),
        "optimizer.epochs=1".to_string(),
        "model.lmax=2".to_string(),
        "model.channels=32".to_string(),
        "model.layers=3".to_string(),
        "model.correlation=1".to_string(),
        format!("output.model=\"{out}/m.h5\""),
        format!("output.metrics=\"{out}/m.csv\""),
        format!("output.checkpoint=\"{out}/m.ckpt\""),
    ];
    Training::load(&deck, &overrides).unwrap()
}

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let t = training(dir.path());
    let model = t.initial_model().expect("the deck's initial model");
    let ev = Evaluator::new(&model);
    let layout = ParameterLayout::of(&model);
    let scratch = Scratch::default();
    let w = LossWeights {
        energy: 1.0,
        forces: 1.0,
        stress: 0.0,
        dipole: 0.0,
    };
    let mut g = c.benchmark_group("train_ethanol");
    g.sample_size(10).measurement_time(Duration::from_secs(20));
    g.throughput(Throughput::Elements(FRAMES as u64));
    g.bench_function("loss_gradient_sequential", |b| {
        b.iter(|| {
            let mut grad = vec![0.0; layout.len];
            for s in &t.train {
                frame_gradient(&ev, &model, &layout, s, &w, &mut grad, &scratch);
            }
            black_box(grad)
        })
    });
    g.bench_function("loss_gradient_batches_of_5", |b| {
        b.iter(|| {
            for batch in t.train.chunks(5) {
                let grads: Vec<Vec<f64>> = batch
                    .par_iter()
                    .map(|s| {
                        let mut grad = vec![0.0; layout.len];
                        frame_gradient(&ev, &model, &layout, s, &w, &mut grad, &scratch);
                        grad
                    })
                    .collect();
                black_box(grads);
            }
        })
    });
    g.bench_function("loss_gradient_merged_batches_of_5", |b| {
        b.iter(|| {
            let mut grad = vec![0.0; layout.len];
            for batch in t.train.chunks(5) {
                let samples: Vec<&Sample> = batch.iter().collect();
                batch_gradient(&ev, &model, &layout, &samples, &w, &mut grad, &scratch);
            }
            black_box(grad)
        })
    });
    g.bench_function("epoch", |b| {
        b.iter(|| black_box(t.run(false, false).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
