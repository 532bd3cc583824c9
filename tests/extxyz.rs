//! Integration tests for the extended-XYZ reader/writer (`eqmd::io::extxyz`).

use eqmd::io::extxyz::{
    read_file, read_last_frame, read_str, write_file, write_frame, ArrayValue, ExtxyzWriter, Frame,
    InfoValue,
};
use glam::{DMat3, DVec3};
use proptest::prelude::*;
use std::collections::BTreeMap;

const ASE_SAMPLE: &str = r#"2
Lattice="5.0 0.0 0.0 0.0 5.0 0.0 0.0 0.0 5.0" Properties=species:S:1:pos:R:3:forces:R:3 energy=-1.5 stress="1.0 0.0 0.0 0.0 1.0 0.0 0.0 0.0 1.0" pbc="T T T"
H        0.00000000       0.00000000       0.00000000       0.10000000       0.00000000       0.00000000
O        1.00000000       0.00000000       0.00000000      -0.10000000       0.00000000       0.00000000
"#;

/// Equality that also distinguishes -0.0 from 0.0 (Debug prints the shortest round-trip form).
fn assert_bit_identical(a: &[Frame], b: &[Frame]) {
    assert_eq!(a, b);
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
}

fn to_string(frames: &[Frame]) -> String {
    let mut out = Vec::new();
    for f in frames {
        write_frame(&mut out, f).unwrap();
    }
    String::from_utf8(out).unwrap()
}

#[test]
fn parses_ase_sample() {
    let frames = read_str(ASE_SAMPLE, "sample.xyz").unwrap();
    assert_eq!(frames.len(), 1);
    let f = &frames[0];
    assert_eq!(f.len(), 2);
    assert_eq!(f.symbols, ["H", "O"]);
    assert_eq!(f.positions, [DVec3::ZERO, DVec3::new(1.0, 0.0, 0.0)]);
    assert_eq!(f.lattice, Some(DMat3::from_diagonal(DVec3::splat(5.0))));
    assert_eq!(f.pbc, [true; 3]);
    assert_eq!(f.energy(), Some(-1.5));
    assert_eq!(f.stress(), Some(DMat3::IDENTITY));
    assert_eq!(
        f.forces().unwrap(),
        [DVec3::new(0.1, 0.0, 0.0), DVec3::new(-0.1, 0.0, 0.0)]
    );
    assert_eq!(
        f.info.len(),
        2,
        "Lattice/Properties/pbc must not leak into info: {:?}",
        f.info
    );
    assert_eq!(f.arrays.len(), 1);
}

#[test]
fn lattice_vectors_are_columns_in_order() {
    let text = "1\nLattice=\"1 2 3 4 5 6 7 8 9.5\"\nH 0 0 0\n";
    let f = &read_str(text, "t").unwrap()[0];
    let l = f.lattice.unwrap();
    assert_eq!(l.x_axis, DVec3::new(1.0, 2.0, 3.0));
    assert_eq!(l.y_axis, DVec3::new(4.0, 5.0, 6.0));
    assert_eq!(l.z_axis, DVec3::new(7.0, 8.0, 9.5));
    assert_eq!(f.pbc, [true; 3], "Lattice without pbc means periodic");
}

#[test]
fn molecule_without_lattice_or_pbc() {
    let text = "3\nwater molecule energy=-2\nO 0.0 0.0 0.1\nH 0.7 0.0 -0.5\nH -0.7 0.0 -0.5\n\n\n";
    let f = &read_str(text, "mol.xyz").unwrap()[0];
    assert_eq!(f.lattice, None);
    assert_eq!(f.pbc, [false; 3]);
    assert_eq!(f.symbols, ["O", "H", "H"]);
    assert_eq!(f.positions[2], DVec3::new(-0.7, 0.0, -0.5));
    assert_eq!(f.info["water"], InfoValue::Bool(true));
    assert_eq!(f.info["molecule"], InfoValue::Bool(true));
    assert_eq!(f.info["energy"], InfoValue::Int(-2));
    assert_eq!(f.energy(), Some(-2.0));
    // Written back: no Lattice key, but pbc="F F F".
    let out = to_string(std::slice::from_ref(f));
    let comment = out.lines().nth(1).unwrap();
    assert!(!comment.contains("Lattice"));
    assert!(comment.starts_with("Properties=species:S:1:pos:R:3 "));
    assert!(comment.ends_with(r#"pbc="F F F""#), "{comment}");
}

#[test]
fn comment_line_value_forms() {
    let text = concat!(
        "1\n",
        r#"PBC="T F T" s="hello \"big\" world" arr={1.5 2 3} b=[T,F] k = v t=True n=42 x=1e3 z=F e="""#,
        "\r\nH 0 0 0\r\n"
    );
    let f = &read_str(text, "t").unwrap()[0];
    assert_eq!(f.pbc, [true, false, true]);
    assert_eq!(f.info["s"], InfoValue::Str("hello \"big\" world".into()));
    assert_eq!(f.info["arr"], InfoValue::FloatArray(vec![1.5, 2.0, 3.0]));
    assert_eq!(f.info["b"], InfoValue::BoolArray(vec![true, false]));
    assert_eq!(f.info["k"], InfoValue::Str("v".into()));
    assert_eq!(f.info["t"], InfoValue::Bool(true));
    assert_eq!(f.info["n"], InfoValue::Int(42));
    assert_eq!(f.info["x"], InfoValue::Float(1000.0));
    assert_eq!(f.info["z"], InfoValue::Bool(false));
    assert_eq!(f.info["e"], InfoValue::Str(String::new()));
    assert!(!f.info.contains_key("PBC"));
}

#[test]
fn column_types() {
    let text = "2\nProperties=species:S:1:Z:I:1:pos:R:3:fixed:L:1:tag:S:1\nO 8 0 0 0 T a\nH 1 1 0 0 False b\n";
    let f = &read_str(text, "t").unwrap()[0];
    assert_eq!(f.symbols, ["O", "H"]);
    assert_eq!(f.positions[1], DVec3::new(1.0, 0.0, 0.0));
    assert_eq!(
        f.arrays["Z"],
        ArrayValue::Int {
            ncols: 1,
            data: vec![8, 1]
        }
    );
    assert_eq!(
        f.arrays["fixed"],
        ArrayValue::Bool {
            ncols: 1,
            data: vec![true, false]
        }
    );
    assert_eq!(
        f.arrays["tag"],
        ArrayValue::Str {
            ncols: 1,
            data: vec!["a".into(), "b".into()]
        }
    );
    assert_eq!(f.arrays["Z"].ncols(), 1);
}

#[test]
fn float_edge_cases_round_trip_as_floats() {
    let xs = vec![
        0.0,
        -0.0,
        1.0,
        -2.0,
        1e300,
        -1e-300,
        0.1,
        1e16,
        1e15,
        1e-5,
        9.9e-6,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        123456.789,
    ];
    let mut f = Frame::new(
        vec!["H".into(); xs.len()],
        xs.iter().map(|&x| DVec3::splat(x)).collect(),
    );
    for (i, &x) in xs.iter().enumerate() {
        f.info.insert(format!("x{i:02}"), InfoValue::Float(x));
    }
    f.info
        .insert("all".into(), InfoValue::FloatArray(xs.clone()));
    let back = read_str(&to_string(std::slice::from_ref(&f)), "t").unwrap();
    assert_bit_identical(std::slice::from_ref(&f), &back);
    for (x, p) in xs.iter().zip(&back[0].positions) {
        assert_eq!(x.to_bits(), p.x.to_bits());
    }
}

#[test]
fn stress_voigt_and_full() {
    let mut f = Frame::new(vec![], vec![]);
    f.info.insert(
        "stress".into(),
        InfoValue::FloatArray(vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]),
    );
    let s = f.stress().unwrap();
    assert_eq!(
        s,
        DMat3::from_cols_array(&[1.0, 6.0, 5.0, 6.0, 2.0, 4.0, 5.0, 4.0, 3.0])
    );
    let m = DMat3::from_cols_array(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0]);
    f.set_stress(m);
    let back = read_str(&to_string(&[f]), "t").unwrap();
    assert_eq!(back[0].stress(), Some(m));
}

fn sample_frames() -> Vec<Frame> {
    let mut frames = Vec::new();
    for k in 0..3 {
        let kf = k as f64;
        let mut f = Frame::new(
            vec!["Si".into(), "O".into(), "O".into()],
            vec![
                DVec3::new(0.1 + 0.2, -0.0, 1e-300),
                DVec3::new(1.0 / 3.0, 2.5e17 + kf, -7.0),
                DVec3::new(f64::MIN_POSITIVE, 5e-324, 123_456_789.123_456_79),
            ],
        );
        f.lattice = Some(DMat3::from_cols(
            DVec3::new(5.1 + kf, 0.0, 0.0),
            DVec3::new(0.3, 5.2, 0.0),
            DVec3::new(0.1, 0.2, 5.3 / 3.0),
        ));
        f.pbc = [true, k != 1, false];
        f.set_energy(-12.345678901234567 * (kf + 1.0));
        f.set_stress(DMat3::from_cols_array(&[
            0.1, 0.2, 0.3, 0.2, 0.5, 0.6, 0.3, 0.6, 0.9,
        ]));
        f.info.insert(
            "config_type".into(),
            InfoValue::Str("bulk \"hot\" phase".into()),
        );
        f.info.insert("step".into(), InfoValue::Int(1000 * k));
        f.info
            .insert("converged".into(), InfoValue::Bool(k % 2 == 0));
        f.set_forces(&[
            DVec3::new(0.1, -0.2, 0.3),
            DVec3::new(1e-12, 0.0, -1.0),
            DVec3::new(3.0, 2.0, 1.0 / 7.0),
        ]);
        f.set_vector_array("velocities", &[DVec3::splat(0.7); 3]);
        f.arrays.insert(
            "tags".into(),
            ArrayValue::Int {
                ncols: 1,
                data: vec![0, -3, i64::MAX],
            },
        );
        frames.push(f);
    }
    frames
}

#[test]
fn multi_frame_round_trip_is_bit_exact() {
    let frames = sample_frames();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("traj.xyz");
    write_file(&path, &frames).unwrap();
    let back = read_file(&path).unwrap();
    assert_bit_identical(&frames, &back);
    let text = std::fs::read_to_string(&path).unwrap();
    let comment = text.lines().nth(1).unwrap();
    assert!(comment.starts_with(
        "Lattice=\"5.1 0.0 0.0 0.3 5.2 0.0 0.1 0.2 1.7666666666666666\" \
         Properties=species:S:1:pos:R:3:forces:R:3:tags:I:1:velocities:R:3 "
    ));
    assert!(comment.ends_with(r#"pbc="T T F""#));
    assert_eq!(read_last_frame(&path).unwrap(), frames[2]);
}

#[test]
fn streaming_writer_appends_and_flushes() {
    let frames = sample_frames();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.xyz");
    let mut w = ExtxyzWriter::create(&path).unwrap();
    w.write(&frames[0]).unwrap();
    w.write(&frames[1]).unwrap();
    // Readable while the writer is still open.
    assert_eq!(read_file(&path).unwrap().len(), 2);
    drop(w);
    let mut w = ExtxyzWriter::append(&path).unwrap();
    w.write(&frames[2]).unwrap();
    assert_bit_identical(&read_file(&path).unwrap(), &frames);
    assert_eq!(read_last_frame(&path).unwrap(), frames[2]);
}

#[test]
fn writer_rejects_unrepresentable_frames() {
    let mut out = Vec::new();
    let bad = Frame::new(vec!["H".into()], vec![]);
    assert!(write_frame(&mut out, &bad).is_err());
    let mut bad = Frame::new(vec!["H".into()], vec![DVec3::ZERO]);
    bad.arrays.insert(
        "q".into(),
        ArrayValue::Float {
            ncols: 2,
            data: vec![1.0],
        },
    );
    assert!(write_frame(&mut out, &bad).is_err());
    let mut bad = Frame::new(vec!["H".into()], vec![DVec3::ZERO]);
    bad.info.insert("pbc".into(), InfoValue::Bool(true));
    assert!(write_frame(&mut out, &bad).is_err());
    let bad = Frame::new(vec!["H e".into()], vec![DVec3::ZERO]);
    assert!(write_frame(&mut out, &bad).is_err());
}

/// Asserts that parsing fails at `line` with a message containing `needle`.
fn assert_error(text: &str, line: usize, needle: &str) {
    let e = read_str(text, "bad.xyz").expect_err("expected a parse error");
    assert_eq!(e.file, "bad.xyz");
    assert_eq!(e.line, line, "wrong line for: {e}");
    assert!(
        e.message.contains(needle),
        "message {:?} lacks {needle:?}",
        e.message
    );
    assert!(e.to_string().starts_with(&format!("bad.xyz:{line}: ")));
}

#[test]
fn errors_name_the_right_line() {
    let good = "1\nc\nH 0 0 0\n";
    // Truncated: second frame declares 3 atoms, only 1 present; the missing line is 7.
    assert_error(&format!("{good}3\nc\nH 0 0 0\n"), 7, "truncated");
    assert_error(&format!("{good}2\n"), 5, "comment");
    // Bad atom counts.
    assert_error(&format!("{good}two\nc\nH 0 0 0\n"), 4, "atom count");
    assert_error("-1\nc\n", 1, "atom count");
    assert_error(&format!("{good}\n1\nc\nH 0 0 0\n"), 4, "blank");
    // Non-numbers.
    assert_error(
        &format!("{good}2\nc\nH 0 0 0\nO 0 zero 0\n"),
        7,
        "real number",
    );
    assert_error(
        "1\nProperties=species:S:1:pos:R:3:n:I:1\nH 0 0 0 1.5\n",
        3,
        "integer",
    );
    assert_error(
        "1\nProperties=species:S:1:pos:R:3:m:L:1\nH 0 0 0 yes\n",
        3,
        "logical",
    );
    // Properties vs columns.
    assert_error(
        &format!("{good}1\nProperties=species:S:1:pos:R:3:forces:R:3\nH 0 0 0 1 2\n"),
        6,
        "columns",
    );
    assert_error(&format!("{good}1\nc\nH 0 0 0 9\n"), 6, "columns");
    assert_error(
        "1\nProperties=species:S:1:pos:R\nH 0 0 0\n",
        2,
        "Properties",
    );
    assert_error("1\nProperties=species:S:1:pos:X:3\nH 0 0 0\n", 2, "type");
    assert_error("1\nProperties=species:S:1:pos:R:2\nH 0 0 0\n", 2, "R:3");
    assert_error("1\nProperties=species:S:1:f:R:3\nH 0 0 0\n", 2, "pos");
    assert_error("1\nProperties=Z:I:1:pos:R:3\n1 0 0 0\n", 2, "species");
    assert_error(
        "1\nProperties=species:S:1:pos:R:3:pos:R:3\nH 0 0 0 0 0 0\n",
        2,
        "repeated",
    );
    // Lattice / pbc.
    assert_error(
        &format!("{good}1\nLattice=\"1 0 0 0 1 0 0 0\"\nH 0 0 0\n"),
        5,
        "Lattice",
    );
    assert_error("1\nLattice=\"1 0 0 0 1 0 0 0 x\"\nH 0 0 0\n", 2, "Lattice");
    assert_error("1\npbc=\"T T\"\nH 0 0 0\n", 2, "pbc");
    // Huge declared count must not allocate or panic.
    assert_error("99999999999999999\nc\n", 3, "truncated");
    // vectors eqmd reads in another shape would be left unread: atoms at rest, no forces
    for (prop, says) in [
        ("velocities:R:1", "velocities must be velocities:R:3"),
        ("velocities:I:3", "velocities must be velocities:R:3"),
        ("forces:R:2", "forces must be forces:R:3"),
        ("momenta:S:3", "momenta must be momenta:R:3"),
    ] {
        let cols = prop.rsplit(':').next().unwrap().parse::<usize>().unwrap();
        let values = vec!["1"; cols].join(" ");
        let text = format!("1\nProperties=species:S:1:pos:R:3:{prop}\nH 0 0 0 {values}\n");
        assert_error(&text, 2, says);
    }
}

#[test]
fn unreadable_file_names_the_file() {
    let e = read_file(std::path::Path::new("/nonexistent/dir/x.xyz")).unwrap_err();
    assert!(e.to_string().contains("/nonexistent/dir/x.xyz"));
    assert!(read_last_frame(std::path::Path::new("/nonexistent/x.xyz")).is_err());
}

#[test]
fn empty_input_has_no_frames() {
    assert!(read_str("", "e").unwrap().is_empty());
    assert!(read_str("\n  \n", "e").unwrap().is_empty());
    let f = &read_str("0\nempty\n", "e").unwrap()[0];
    assert!(f.is_empty());
}

#[test]
fn reads_a_thousand_frames() {
    let mut frames = sample_frames();
    frames.truncate(1);
    let base = frames.pop().unwrap();
    let mut f = Frame::new(
        vec!["C".into(); 21],
        (0..21).map(|i| DVec3::splat(i as f64 * 0.37)).collect(),
    );
    f.lattice = base.lattice;
    f.info = base.info;
    f.set_forces(&f.positions.clone());
    let text = to_string(&vec![f; 1000]);
    let back = read_str(&text, "many frames").unwrap();
    assert_eq!(back.len(), 1000);
    assert_eq!(back[999].positions, back[0].positions);
}

// ---------------------------------------------------------------- property test

/// Strings that ASE's type inference keeps as strings (not all-number or all-bool tokens).
fn survives_as_str(s: &str) -> bool {
    let toks: Vec<&str> = s
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .collect();
    let bools = ["T", "F", "true", "false", "True", "False", "TRUE", "FALSE"];
    toks.is_empty()
        || !(toks
            .iter()
            .all(|t| t.parse::<f64>().is_ok() || t.parse::<i64>().is_ok())
            || toks.iter().all(|t| bools.contains(t)))
}

fn finite() -> impl Strategy<Value = f64> {
    prop::num::f64::NORMAL | prop::num::f64::SUBNORMAL | prop::num::f64::ZERO
}

fn info_value() -> impl Strategy<Value = InfoValue> {
    prop_oneof![
        any::<bool>().prop_map(InfoValue::Bool),
        any::<i64>().prop_map(InfoValue::Int),
        finite().prop_map(InfoValue::Float),
        "[a-zA-Z0-9 _.,=\"'{}\\[\\]\\\\-]{0,12}"
            .prop_filter("not numeric/bool", |s| survives_as_str(s))
            .prop_map(InfoValue::Str),
        prop::collection::vec(any::<bool>(), 2..5).prop_map(InfoValue::BoolArray),
        prop::collection::vec(any::<i64>(), 2..5).prop_map(InfoValue::IntArray),
        prop::collection::vec(finite(), 2..10).prop_map(InfoValue::FloatArray),
    ]
}

fn array_value(n: usize) -> impl Strategy<Value = ArrayValue> {
    (1usize..4, 0..4).prop_flat_map(move |(ncols, kind)| {
        let len = n * ncols;
        match kind {
            0 => prop::collection::vec(finite(), len)
                .prop_map(move |data| ArrayValue::Float { ncols, data })
                .boxed(),
            1 => prop::collection::vec(any::<i64>(), len)
                .prop_map(move |data| ArrayValue::Int { ncols, data })
                .boxed(),
            2 => prop::collection::vec(any::<bool>(), len)
                .prop_map(move |data| ArrayValue::Bool { ncols, data })
                .boxed(),
            _ => prop::collection::vec("[A-Za-z0-9_.+-]{1,5}", len)
                .prop_map(move |data| ArrayValue::Str { ncols, data })
                .boxed(),
        }
    })
}

fn frame() -> impl Strategy<Value = Frame> {
    (0usize..6).prop_flat_map(|n| {
        (
            prop::collection::vec(prop::sample::select(vec!["H", "C", "O", "Si", "Xx"]), n),
            prop::collection::vec([finite(), finite(), finite()], n),
            prop::option::of(prop::array::uniform9(finite())),
            any::<[bool; 3]>(),
            prop::collection::btree_map(
                "[a-zA-Z_][a-zA-Z0-9_]{0,6}".prop_filter("reserved", |k| {
                    !["lattice", "properties", "pbc", "uid"]
                        .contains(&k.to_ascii_lowercase().as_str())
                }),
                info_value(),
                0..5,
            ),
            prop::collection::btree_map(
                "[a-z][a-z0-9_]{0,6}".prop_filter("reserved", |k| k != "species" && k != "pos"),
                array_value(n),
                0..4,
            ),
        )
            .prop_map(
                |(sym, pos, lat, pbc, info, arrays): (
                    _,
                    _,
                    Option<[f64; 9]>,
                    _,
                    BTreeMap<_, _>,
                    _,
                )| Frame {
                    lattice: lat.map(|a| DMat3::from_cols_array(&a)),
                    pbc,
                    symbols: sym.into_iter().map(String::from).collect(),
                    positions: pos.into_iter().map(DVec3::from_array).collect(),
                    info,
                    arrays,
                },
            )
    })
}

proptest! {
    #[test]
    fn random_frames_round_trip(frames in prop::collection::vec(frame(), 1..4)) {
        let text = to_string(&frames);
        let back = read_str(&text, "prop").unwrap();
        prop_assert_eq!(format!("{frames:?}"), format!("{back:?}"));
        prop_assert_eq!(&frames, &back);
    }
}

/// NaN or infinite positions and velocities are refused with the file, the line and the
/// atom; other columns may hold them (a NaN energy per atom is data, not motion).
#[test]
fn non_finite_positions_and_velocities_are_refused() {
    let head = "2\nProperties=species:S:1:pos:R:3:velocities:R:3:e:R:1\n";
    let cases = [
        (
            "H 0 0 0 0 0 0 0\nH 1 NaN 0 0 0 0 0\n",
            "atom 2: column 'pos'",
        ),
        (
            "H 0 0 inf 0 0 0 0\nH 1 0 0 0 0 0 0\n",
            "atom 1: column 'pos'",
        ),
        (
            "H 0 0 0 0 0 0 0\nH 1 0 0 0 -inf 0 0\n",
            "atom 2: column 'velocities'",
        ),
    ];
    for (atoms, what) in cases {
        let e = read_str(&format!("{head}{atoms}"), "t.xyz").unwrap_err();
        let line = if what.starts_with("atom 1") { 3 } else { 4 };
        assert_eq!(e.line, line, "{e}");
        assert!(
            e.to_string().starts_with(&format!("t.xyz:{line}:")) && e.to_string().contains(what),
            "{e}"
        );
    }
    let text = format!("{head}H 0 0 0 0 0 0 nan\nH 1 0 0 0 0 0 0\n");
    assert!(read_str(&text, "t.xyz").unwrap().len() == 1);
}
