//! Learning curves: a tiny curve deck on the real ethanol data runs end to end (library and
//! command line) and writes the CSV and the SVG; the figure is re-drawn from a hand-written
//! CSV; bad curve decks are refused with the key named.

mod common;

use common::eqmd_command;
use eqmd::potential::equivariant::file;
use eqmd::train::curves::plot;
use eqmd::train::curves::{self, read_csv, LearningCurve, Point};
use eqmd::train::trainer::Training;
use std::path::{Path, PathBuf};

/// Writes a base training deck (tiny model, 10 validation frames of the real data, outputs
/// in `dir/runs`) and a curve deck with `curve` as its body; returns the curve deck's path.
fn decks(dir: &Path, curve: &str) -> PathBuf {
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("inputs/data/rmd17-ethanol.xyz");
    let base = format!(
        "version = 1\n\
         [data]\nfile = {data:?}\ntrain = 10\nvalidation = 10\nseed = 1\n\
         [model]\nlmax = 1\nchannels = 2\nlayers = 1\ncutoff = 4.0\nradial_basis = 4\n\
         radial_hidden = [4]\nparity = true\n\
         [optimizer]\nbatch = 5\nepochs = 50\n\
         [output]\nmodel = \"runs/base.h5\"\n",
        data = data.to_str().unwrap()
    );
    std::fs::write(dir.join("base.toml"), base).unwrap();
    let path = dir.join("curve.toml");
    std::fs::write(&path, curve).unwrap();
    path
}

const TINY: &str = "version = 1\n\
    base = \"base.toml\"\n\
    frames = [5, 10]\n\
    epochs = 1\n\
    output = \"out\"\n\
    [[model]]\nlmax = 0\nchannels = 4\n\
    [[model]]\nlmax = 1\nchannels = 2\n";

fn assert_svg(path: &Path) {
    let svg = std::fs::read_to_string(path).unwrap();
    assert!(svg.trim_start().starts_with("<svg"), "{}", &svg[..80]);
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("training frames"));
    assert!(svg.contains("force MAE (meV/Å)"));
    assert!(svg.contains("L = 0"));
    assert!(svg.contains("L = 1"));
    assert!(svg.contains("<polyline") || svg.contains("<path"));
}

#[test]
fn tiny_curve_runs_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let deck = decks(dir.path(), TINY);
    let curve = LearningCurve::load(&deck, &[]).unwrap();
    assert_eq!(curve.parameters.len(), 2);
    let mut seen = 0;
    let points = curve.run(false, |_| seen += 1).unwrap();
    assert_eq!(seen, 4);
    let csv = dir.path().join("out/learning-curves.csv");
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().next().unwrap(), curves::CSV_HEADER);
    let rows = read_csv(&csv).unwrap();
    assert_eq!(rows.len(), points.len());
    for (r, p) in rows.iter().zip(&points) {
        assert_eq!(
            (r.lmax, r.channels, r.parameters),
            (p.lmax, p.channels, p.parameters)
        );
        assert_eq!((r.train_frames, r.epochs), (p.train_frames, p.epochs));
        assert!((r.val_force_mae - p.val_force_mae).abs() < 1e-5);
        assert!((r.val_energy_mae_mev_per_atom - p.val_energy_mae_mev_per_atom).abs() < 1e-5);
    }
    let keys: Vec<(usize, usize, usize)> = rows
        .iter()
        .map(|p| (p.lmax, p.channels, p.train_frames))
        .collect();
    assert_eq!(keys, vec![(0, 4, 5), (1, 2, 5), (0, 4, 10), (1, 2, 10)]);
    for (p, n) in rows.iter().zip([0, 1, 0, 1]) {
        assert_eq!(p.parameters, curve.parameters[n]);
        assert_eq!(p.epochs, 1);
        assert!(p.seconds >= 0.0);
        for v in [
            p.val_energy_mae_mev_per_atom,
            p.val_force_mae,
            p.val_force_rmse,
        ] {
            assert!(v.is_finite() && v > 0.0, "{p:?}");
        }
        assert!(p.val_force_rmse >= p.val_force_mae);
    }
    assert_ne!(curve.parameters[0], curve.parameters[1]);
    // every run kept its own model and metrics in the base deck's output folder
    for name in [
        "l0-c4-nu1-n5",
        "l1-c2-nu1-n5",
        "l0-c4-nu1-n10",
        "l1-c2-nu1-n10",
    ] {
        assert!(
            dir.path().join(format!("runs/{name}.h5")).is_file(),
            "{name}"
        );
        assert!(
            dir.path().join(format!("runs/{name}.csv")).is_file(),
            "{name}"
        );
    }
    assert_svg(&dir.path().join("out/learning-curves.svg"));
}

#[test]
fn a_run_trains_the_base_deck_with_frames_and_shape_changed() {
    let dir = tempfile::tempdir().unwrap();
    let one = TINY.replace("[5, 10]", "[5]");
    let deck = decks(dir.path(), &one);
    let curve = LearningCurve::load(&deck, &[]).unwrap();
    curve.run(false, |_| ()).unwrap();
    for (lmax, channels) in [(0, 4), (1, 2)] {
        let set = [
            "data.train=5".to_string(),
            format!("model.lmax={lmax}"),
            format!("model.channels={channels}"),
            "optimizer.epochs=1".to_string(),
            format!("output.model=\"direct-{lmax}.h5\""),
        ];
        let o = Training::load(&dir.path().join("base.toml"), &set)
            .unwrap()
            .run(false, false)
            .unwrap();
        let direct = file::load(&o.model).unwrap();
        let name = format!("runs/l{lmax}-c{channels}-nu1-n5.h5");
        assert_eq!(file::load(&dir.path().join(name)).unwrap(), direct);
    }
}

#[test]
fn command_line_trains_then_replots() {
    // decks in a subfolder, named relative to the working directory: every path must
    // resolve once, against its own deck
    let dir = tempfile::tempdir().unwrap();
    let sub = dir.path().join("decks");
    std::fs::create_dir(&sub).unwrap();
    decks(&sub, TINY);
    let run = |args: &[&str]| {
        let out = eqmd_command()
            .current_dir(dir.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let d = "decks/curve.toml";
    let stdout = run(&["learning-curve", d, "--set", "frames=[5]"]);
    assert!(stdout.contains("L = 1, ν = 1,   2 channels"), "{stdout}");
    assert!(sub.join("runs/l1-c2-nu1-n5.h5").is_file());
    assert!(!sub.join("decks").exists());
    let csv = sub.join("out/learning-curves.csv");
    assert_eq!(read_csv(&csv).unwrap().len(), 2);
    let svg = sub.join("out/learning-curves.svg");
    std::fs::remove_file(&svg).unwrap();
    run(&["learning-curve", d, "--plot-only"]);
    assert_svg(&svg);
    let help = run(&["learning-curve", "--help"]);
    assert!(
        help.contains("learning curves") && help.contains("--plot-only"),
        "{help}"
    );
}

#[test]
fn plots_a_hand_written_csv() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("curves.csv");
    let mut text = format!("{}\n", curves::CSV_HEADER);
    for (l, c, w) in [(0, 42, 23056), (1, 24, 22816), (2, 16, 22592)] {
        for n in [50, 100, 250, 500, 950] {
            let f = 400.0 / (1.0 + l as f64) * (50.0 / n as f64).powf(0.4);
            text.push_str(&format!(
                "{l},{c},1,{w},{n},100,12.5,{:.3},{f:.3},{:.3}\n",
                f / 40.0,
                1.3 * f
            ));
        }
    }
    std::fs::write(&csv, text).unwrap();
    let svg = dir.path().join("figures/curves.svg");
    plot::plot_csv(&csv, &svg).unwrap();
    assert_svg(&svg);
    assert!(std::fs::read_to_string(&svg).unwrap().contains("L = 2"));
    // a damaged row is refused with the file and line named
    std::fs::write(&csv, format!("{}\n0,4,10,5\n", curves::CSV_HEADER)).unwrap();
    let e = format!("{:#}", plot::plot_csv(&csv, &svg).unwrap_err());
    assert!(e.contains("curves.csv:2"), "{e}");
    // points that cannot sit on a log axis are no figure
    let p = Point {
        lmax: 0,
        channels: 1,
        correlation: 1,
        parameters: 1,
        train_frames: 5,
        epochs: 1,
        seconds: 0.0,
        val_energy_mae_mev_per_atom: 0.0,
        val_force_mae: f64::NAN,
        val_force_rmse: 0.0,
    };
    assert!(plot::draw(&[p], &svg).is_err());
}

/// The error of loading the curve deck `body`, as text.
fn load_error(body: &str, overrides: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let deck = decks(dir.path(), body);
    let overrides: Vec<String> = overrides.iter().map(|s| s.to_string()).collect();
    match LearningCurve::load(&deck, &overrides) {
        Ok(_) => panic!("the deck was accepted:\n{body}"),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn bad_curve_decks_name_the_key() {
    let e = load_error(&TINY.replace("epochs = 1", "epoch = 1"), &[]);
    assert!(e.contains("curve.toml:4") && e.contains("`epoch`"), "{e}");
    let e = load_error(&TINY.replace("[5, 10]", "[]"), &[]);
    assert!(
        e.contains("curve.toml:3") && e.contains("key `frames`"),
        "{e}"
    );
    let e = load_error(TINY, &["frames=[5, 991]"]);
    assert!(
        e.contains("key `frames`") && e.contains("991") && e.contains("990 of them"),
        "{e}"
    );
    let e = load_error(&TINY.replace("lmax = 1", "lmax = 4"), &[]);
    assert!(
        e.contains("key `model[1].lmax`") && e.contains("curve.toml:10"),
        "{e}"
    );
    let e = load_error(&TINY.replace("channels = 2", "channels = 0"), &[]);
    assert!(e.contains("key `model[1].channels`"), "{e}");
    let e = load_error(&TINY.replace("\"base.toml\"", "\"missing.toml\""), &[]);
    assert!(
        e.contains("key `base`") && e.contains("missing.toml"),
        "{e}"
    );
    let e = load_error(&TINY.replace("version = 1", "version = 2"), &[]);
    assert!(e.contains("key `version`"), "{e}");
    let e = load_error(TINY, &["minutes=-1"]);
    assert!(e.contains("key `minutes`") && e.contains("--set"), "{e}");
}

#[test]
fn a_model_can_set_the_correlation_order() {
    let dir = tempfile::tempdir().unwrap();
    let body = "version = 1\nbase = \"base.toml\"\nframes = [5]\nepochs = 1\noutput = \"out\"\n\
        [[model]]\nlmax = 1\nchannels = 2\n\
        [[model]]\nlmax = 1\nchannels = 2\ncorrelation = 2\n";
    let deck = decks(dir.path(), body);
    let curve = LearningCurve::load(&deck, &[]).unwrap();
    // the product basis adds its per-species weights
    assert!(
        curve.parameters[1] > curve.parameters[0],
        "{:?}",
        curve.parameters
    );
    let points = curve.run(false, |_| ()).unwrap();
    let nus: Vec<usize> = points.iter().map(|p| p.correlation).collect();
    assert_eq!(nus, vec![1, 2]);
    let m = file::load(&dir.path().join("runs/l1-c2-nu2-n5.h5")).unwrap();
    assert_eq!(m.hyper.correlation, 2);
    let rows = read_csv(&dir.path().join("out/learning-curves.csv")).unwrap();
    assert_eq!(rows.iter().map(|p| p.correlation).collect::<Vec<_>>(), nus);
    let svg = std::fs::read_to_string(dir.path().join("out/learning-curves.svg")).unwrap();
    assert!(
        svg.contains("ν = 2"),
        "the legend names the correlation order"
    );
    // an order the network does not have is refused with its key
    let e = load_error(&body.replace("correlation = 2", "correlation = 9"), &[]);
    assert!(e.contains("key `model[1].correlation`"), "{e}");
}

#[test]
fn a_csv_without_the_correlation_column_reads_as_order_one() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("old.csv");
    let header = "lmax,channels,parameters,train_frames,epochs,seconds,\
        val_energy_mae_mev_per_atom,val_force_mae_mev_per_angstrom,\
        val_force_rmse_mev_per_angstrom";
    std::fs::write(
        &csv,
        format!("{header}\n2,16,22592,950,243,721.90,0.63,21.7,30.1\n"),
    )
    .unwrap();
    let rows = read_csv(&csv).unwrap();
    assert_eq!(
        (rows[0].lmax, rows[0].correlation, rows[0].parameters),
        (2, 1, 22592)
    );
    assert_eq!(rows[0].val_force_mae, 21.7);
}

/// The curve's CSV and figure never overwrite its inputs: an output that is (through a
/// symbolic link) the base deck, or a folder, is refused before any training.
#[test]
fn outputs_that_are_inputs_or_folders_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let deck = decks(dir.path(), TINY);
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let base = dir.path().join("base.toml");
    let before = std::fs::read(&base).unwrap();
    std::os::unix::fs::symlink(&base, out.join("learning-curves.csv")).unwrap();
    let err = match LearningCurve::load(&deck, &[]) {
        Ok(_) => panic!("an output linked to the base deck was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("curve.toml") && err.contains("output") && err.contains("base"),
        "{err}"
    );
    std::fs::remove_file(out.join("learning-curves.csv")).unwrap();
    std::fs::create_dir(out.join("learning-curves.svg")).unwrap();
    let err = match LearningCurve::load(&deck, &[]) {
        Ok(_) => panic!("a folder as the figure was accepted"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("a folder"), "{err}");
    assert_eq!(std::fs::read(&base).unwrap(), before);
}
