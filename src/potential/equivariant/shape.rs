//! The shape of a model as data, built and validated in one place: the hyper-parameters,
//! the irreps of every layer's features, the list of coupling paths of every convolution
//! with the shape and normalisation of their weights (as e3nn keeps `Instruction`s with
//! `path_shape` and `path_weight`), and the list of weight arrays in their one order. The
//! weights ([`super::model`]), their flat view ([`super::parameters`]), the model file
//! ([`super::file`]), the forward pass and both reverse passes all read it.

use super::clebsch_gordan::triangle;
pub use super::irreps::{Gated, Irreps};
use super::product::ProductShape;
use super::spherical_harmonics::{dim, total_dim, LMAX};

/// What fixes the shape of a model.
#[derive(Clone, Debug, PartialEq)]
pub struct Hyper {
    /// Species the model knows, in the order of its embedding rows.
    pub species: Vec<String>,
    /// Largest irrep degree L of the features (0 = invariant, SchNet-like).
    pub lmax: usize,
    /// Channels per irrep.
    pub channels: usize,
    /// Interaction layers.
    pub layers: usize,
    /// Cutoff radius (Å).
    pub cutoff: f64,
    /// Bessel functions in the radial basis.
    pub radial_basis: usize,
    /// Hidden widths of the radial MLPs.
    pub radial_hidden: Vec<usize>,
    /// Keep only parity-conserving couplings (irreps 0e, 1o, 2e, 3o): the energy is then
    /// invariant under inversion too.
    pub parity: bool,
    /// The average number of neighbours; messages are divided by its square root.
    pub avg_neighbors: f64,
    /// Factors of the aggregated messages multiplied in each layer's product basis: 1 keeps
    /// the NequIP layer (messages straight into the linear maps), 2 or 3 adds MACE's
    /// symmetric products of up to 3 (body order 4).
    pub correlation: usize,
    /// Read out every layer's scalars and sum them into the energy (as MACE does), rather
    /// than the last layer's only.
    pub layer_readouts: bool,
    /// A dipole head besides the energy, and what it reads the dipole from.
    pub dipole: Option<DipoleHead>,
}

/// What a dipole head reads the dipole from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DipoleHead {
    /// μ = Σ_i (q_i r_i + μ_i): charges from the last scalars and atomic dipoles from the
    /// last l = 1 features (MACE's AtomicDipolesMACE).
    ChargesAndDipoles,
    /// μ = Σ_i q_i r_i: charges only, equivariant through the positions.
    Charges,
    /// Three numbers from the summed last scalars taken as Cartesian components: not
    /// equivariant (the baseline of the symmetry study).
    Invariant,
}

impl DipoleHead {
    /// Every kind with its name in decks, the command line and the model file.
    pub const NAMES: [(DipoleHead, &'static str); 3] = [
        (DipoleHead::ChargesAndDipoles, "charges+dipoles"),
        (DipoleHead::Charges, "charges"),
        (DipoleHead::Invariant, "invariant"),
    ];

    /// Its name.
    pub fn name(self) -> &'static str {
        Self::NAMES
            .iter()
            .find(|(k, _)| *k == self)
            .expect("every kind has a name")
            .1
    }

    /// The kind named `name`, or what the names are.
    pub fn parse(name: &str) -> Result<DipoleHead, String> {
        Self::NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(k, _)| *k)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::NAMES.iter().map(|(_, n)| *n).collect();
                format!(
                    "`{name}` is not a dipole head (one of {})",
                    names.join(", ")
                )
            })
    }
}

/// Largest correlation order of the product basis.
pub const MAX_CORRELATION: usize = 3;

/// One coupling l1 ⊗ l2 → l3 of a convolution: neighbour features of degree l1 with the
/// spherical harmonics of degree l2 of the bond, into degree l3.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Path {
    pub l1: usize,
    pub l2: usize,
    pub l3: usize,
}

/// Bound on channels, radial widths, species and layers: keeps shapes far from overflow
/// and allocations sane whatever a file or a command line asks for.
pub const MAX_SIZE: usize = 1 << 16;

/// The most weights a model may have (1 GiB of them; the largest published MACE models have
/// a few million), so that no shape asks for more memory than a machine has.
pub const MAX_WEIGHTS: usize = 1 << 27;

/// Hyper-parameters that do not make a model: which one (as the model file and the
/// training deck name it) and why.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{field} {message}")]
pub struct ShapeError {
    /// The hyper-parameter, e.g. `lmax` or `radial_hidden`.
    pub field: &'static str,
    /// What is wrong, e.g. "is 4, expected at most 3".
    pub message: String,
}

impl ShapeError {
    /// The hyper-parameter's name as a key, without a qualifier such as " (width)".
    pub fn key(&self) -> &'static str {
        self.field.split(' ').next().unwrap_or(self.field)
    }
}

fn fault(field: &'static str, message: String) -> Result<(), ShapeError> {
    Err(ShapeError { field, message })
}

impl Hyper {
    /// Channels of the output block of degree l before the gate: scalars carry one gate
    /// per channel of each l ≥ 1 block.
    pub fn out_channels(&self, l: usize) -> usize {
        if l == 0 {
            self.channels * (1 + self.lmax)
        } else {
            self.channels
        }
    }

    /// The couplings of a layer whose input has degree `lmax_in`.
    pub fn paths(&self, lmax_in: usize) -> Vec<Path> {
        let mut paths = Vec::new();
        for l1 in 0..=lmax_in {
            for l2 in 0..=self.lmax {
                for l3 in 0..=self.lmax {
                    let allowed = triangle(l1, l2, l3) && (!self.parity || (l1 + l2 + l3) % 2 == 0);
                    if allowed {
                        paths.push(Path { l1, l2, l3 });
                    }
                }
            }
        }
        paths
    }

    /// Degree of the input of layer `t`: the embedding is scalar, later layers take lmax.
    pub fn lmax_in(&self, t: usize) -> usize {
        self.lmax * usize::from(t > 0)
    }

    /// Checks that these hyper-parameters make a model: species names usable as dataset
    /// names and distinct, sizes within bounds (lmax ≤ 3, and 0 without layers), cutoff and
    /// average neighbour count finite and positive.
    pub fn validate(&self) -> Result<(), ShapeError> {
        for (i, name) in self.species.iter().enumerate() {
            if name.is_empty() || name == "." || name.contains('/') {
                fault("species", format!("{name:?} is empty or has a '/'"))?;
            }
            if self.species[..i].contains(name) {
                fault("species", format!("{name:?} appears twice"))?;
            }
        }
        let sizes = [
            ("species (count)", self.species.len(), 1, MAX_SIZE),
            ("lmax", self.lmax, 0, LMAX),
            ("correlation", self.correlation, 1, MAX_CORRELATION),
            ("channels", self.channels, 1, MAX_SIZE),
            ("layers", self.layers, 0, MAX_SIZE),
            ("radial_basis", self.radial_basis, 1, MAX_SIZE),
            ("radial_hidden (count)", self.radial_hidden.len(), 0, 64),
        ];
        let widths =
            (self.radial_hidden.iter()).map(|&w| ("radial_hidden (width)", w, 1, MAX_SIZE));
        for (field, v, min, max) in sizes.into_iter().chain(widths) {
            if !(min..=max).contains(&v) {
                let expected = match min {
                    0 => format!("at most {max}"),
                    _ => format!("{min} to {max}"),
                };
                fault(field, format!("is {v}, expected {expected}"))?;
            }
        }
        if self.layers == 0 && self.lmax > 0 {
            // the features read out are then the embedding's scalars alone
            fault(
                "lmax",
                format!(
                    "is {}: a model without layers has scalars only, expected 0",
                    self.lmax
                ),
            )?;
        }
        for (field, v) in [
            ("cutoff", self.cutoff),
            ("avg_neighbors", self.avg_neighbors),
        ] {
            if !(v.is_finite() && v > 0.0) {
                fault(field, format!("is {v}, expected a finite number > 0"))?;
            }
        }
        Ok(())
    }
}

/// One coupling path of a convolution and the linear map that takes its message into the
/// output block of degree l3.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Instruction {
    pub path: Path,
    /// Start of the path's message block (C·(2 l3 + 1) numbers) in an atom's messages.
    pub message: usize,
    /// Shape of the linear map's weights: out_channels(l3) × C, or C × C into the product
    /// basis's input.
    pub weight_shape: [usize; 2],
    /// Factor of the linear map: 1/√(C · number of paths into l3).
    pub path_weight: f64,
}

/// One interaction layer's shape.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerShape {
    /// The layer's input features (degree 0 for the first layer, L after).
    pub input: Irreps,
    /// Its output features (degree L).
    pub output: Irreps,
    /// Its outputs before the gate.
    pub gated: Gated,
    /// The couplings of the convolution, in the order of their weights.
    pub instructions: Vec<Instruction>,
    /// Numbers in one atom's messages (all paths).
    pub message_len: usize,
    /// Widths of the radial MLP: basis, hidden widths, one weight per path and channel.
    pub radial_sizes: Vec<usize>,
    /// Shape of the species-dependent self-connection of each degree l present in both the
    /// input and the output: out_channels(l) × C.
    pub self_connection: Vec<[usize; 2]>,
    /// The product basis between the convolution and the outputs (correlation ≥ 2): the
    /// linear maps per path then give its input A, and a linear map per degree
    /// (out_channels(l) × C) takes its output B to the outputs before the gate.
    pub product: Option<ProductShape>,
}

impl LayerShape {
    /// Rows of the outputs before the gate of degree l: out_channels(l).
    pub fn gated_rows(&self, l: usize) -> usize {
        let c = self.gated.channels;
        if l == 0 {
            c * (1 + self.gated.lmax)
        } else {
            c
        }
    }

    /// Weights the radial MLP gives each bond: one per path and channel.
    pub fn radial_outputs(&self) -> usize {
        self.instructions.len() * self.input.channels
    }
}

/// Which weight array a [`Block`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockKind {
    /// Species embedding, S × C.
    Embedding,
    /// Linear map of input degree `l` of layer `layer`, C × C.
    Up { layer: usize, l: usize },
    /// Matrix `k` of the radial MLP of layer `layer`.
    Radial { layer: usize, k: usize },
    /// Linear map of path `path` of layer `layer`.
    Down { layer: usize, path: usize },
    /// Product-basis weights of species `species` in layer `layer`, paths × C.
    Product { layer: usize, species: usize },
    /// Linear map of degree `l` from the product basis to the outputs of layer `layer`.
    Mix { layer: usize, l: usize },
    /// Self-connection of degree `l` for species `species` in layer `layer`.
    SelfConnection {
        layer: usize,
        species: usize,
        l: usize,
    },
    /// Readout of the last scalars, C.
    Readout,
    /// Readout of the scalars of a layer before the last, C (with `layer_readouts`).
    LayerReadout { layer: usize },
    /// Charges of the dipole head from the last scalars, C (with `dipole`).
    DipoleCharge,
    /// Atomic dipoles of the dipole head from the last l = 1 features, C (with `dipole`).
    DipoleAtomic,
    /// The invariant head's three Cartesian components from the last scalars, 3 × C.
    DipoleCartesian,
    /// Per-species scale of the atomic energies (set from data, not trained).
    Scale,
    /// Per-species shift of the atomic energies (set from data, not trained).
    Shift,
}

impl BlockKind {
    /// Whether MACE decays it: the maps that mix channels after the convolution, in the
    /// product basis and in the self-connection (not the embedding, the maps before the
    /// convolution, the radial MLP or the readouts).
    pub fn decays(&self) -> bool {
        matches!(
            self,
            BlockKind::Down { .. }
                | BlockKind::Product { .. }
                | BlockKind::Mix { .. }
                | BlockKind::SelfConnection { .. }
        )
    }
}

/// One weight array: which it is, its dataset name in the model file, its shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Block {
    pub kind: BlockKind,
    pub name: String,
    pub shape: Vec<usize>,
}

impl Block {
    /// Numbers in the array.
    pub fn size(&self) -> usize {
        self.shape.iter().product()
    }
    /// Whether the optimiser trains it (scale and shift come from the data).
    pub fn trainable(&self) -> bool {
        !matches!(self.kind, BlockKind::Scale | BlockKind::Shift)
    }
}

/// The whole shape of a model and the normalisations every pass applies.
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    pub hyper: Hyper,
    pub layers: Vec<LayerShape>,
    /// Factor of every message sum: 1/√(average neighbours).
    pub message_norm: f64,
    /// Factor of the linear maps per degree, the self-connections and the readout: 1/√C.
    pub channel_norm: f64,
    /// Spherical harmonics per edge: (L + 1)².
    pub n_sh: usize,
}

impl Shape {
    /// The shape that `hyper` describes, after [`Hyper::validate`].
    pub fn new(hyper: Hyper) -> Result<Shape, ShapeError> {
        hyper.validate()?;
        let shape = Shape::of_valid(hyper);
        // counted before any weight is allocated: a shape within every bound above can
        // still ask for terabytes (65536 channels)
        let weights: usize = shape.blocks().iter().map(|b| b.size()).sum();
        if weights > MAX_WEIGHTS {
            fault(
                "channels",
                format!(
                    "is {}: with the rest of the shape that makes {weights} weights, more than \
                     the {MAX_WEIGHTS} a model may have",
                    shape.hyper.channels
                ),
            )?;
        }
        Ok(shape)
    }

    fn of_valid(hyper: Hyper) -> Shape {
        let c = hyper.channels;
        let layers = (0..hyper.layers)
            .map(|t| {
                let lmax_in = hyper.lmax_in(t);
                let paths = hyper.paths(lmax_in);
                let output = Irreps {
                    channels: c,
                    lmax: hyper.lmax,
                };
                let product = (hyper.correlation > 1)
                    .then(|| ProductShape::new(output, hyper.correlation, hyper.parity));
                let rows = |l: usize| match product {
                    Some(_) => c,
                    None => hyper.out_channels(l),
                };
                let mut message = 0;
                let instructions = (paths.iter())
                    .map(|&path| {
                        let into_l3 = paths.iter().filter(|p| p.l3 == path.l3).count();
                        let i = Instruction {
                            path,
                            message,
                            weight_shape: [rows(path.l3), c],
                            path_weight: 1.0 / ((c * into_l3) as f64).sqrt(),
                        };
                        message += c * dim(path.l3);
                        i
                    })
                    .collect();
                let mut radial_sizes = vec![hyper.radial_basis];
                radial_sizes.extend(&hyper.radial_hidden);
                radial_sizes.push(paths.len() * c);
                let self_connection = (0..=lmax_in.min(hyper.lmax))
                    .map(|l| [hyper.out_channels(l), c])
                    .collect();
                LayerShape {
                    input: Irreps {
                        channels: c,
                        lmax: lmax_in,
                    },
                    output,
                    gated: Gated {
                        channels: c,
                        lmax: hyper.lmax,
                    },
                    instructions,
                    message_len: message,
                    radial_sizes,
                    self_connection,
                    product,
                }
            })
            .collect();
        Shape {
            message_norm: 1.0 / hyper.avg_neighbors.sqrt(),
            channel_norm: 1.0 / (c as f64).sqrt(),
            n_sh: total_dim(hyper.lmax),
            layers,
            hyper,
        }
    }

    /// Every weight array of the model in its one order (the flat vector's, the model
    /// file's and that of the random initial weights): the embedding; per layer the linear
    /// maps per degree, the radial MLP's matrices, the linear maps per path and the
    /// product basis's weights (by species) and maps to the outputs (by degree) when it has
    /// one, the self-connections (by species, then degree) and, with `layer_readouts`, the
    /// layer's readout (all layers but the last); the readout; the scale and
    /// the shift.
    pub fn blocks(&self) -> Vec<Block> {
        let h = &self.hyper;
        let (s, c) = (h.species.len(), h.channels);
        let mut v = Vec::new();
        let mut push = |kind, name: String, shape: Vec<usize>| v.push(Block { kind, name, shape });
        push(BlockKind::Embedding, "/embedding".into(), vec![s, c]);
        for (t, layer) in self.layers.iter().enumerate() {
            for l in 0..=layer.input.lmax {
                let kind = BlockKind::Up { layer: t, l };
                push(kind, format!("/layers/{t}/up/{l}"), vec![c, c]);
            }
            for (k, w) in layer.radial_sizes.windows(2).enumerate() {
                let kind = BlockKind::Radial { layer: t, k };
                push(kind, format!("/layers/{t}/radial/{k}"), w.to_vec());
            }
            for (p, ins) in layer.instructions.iter().enumerate() {
                let kind = BlockKind::Down { layer: t, path: p };
                push(
                    kind,
                    format!("/layers/{t}/down/{p}"),
                    ins.weight_shape.to_vec(),
                );
            }
            if let Some(product) = &layer.product {
                for (species, name) in h.species.iter().enumerate() {
                    let kind = BlockKind::Product { layer: t, species };
                    let name = format!("/layers/{t}/product/{name}");
                    push(kind, name, vec![product.paths.len(), c]);
                }
                for l in 0..=h.lmax {
                    let kind = BlockKind::Mix { layer: t, l };
                    push(
                        kind,
                        format!("/layers/{t}/mix/{l}"),
                        vec![h.out_channels(l), c],
                    );
                }
            }
            for (species, name) in h.species.iter().enumerate() {
                for (l, shape) in layer.self_connection.iter().enumerate() {
                    let kind = BlockKind::SelfConnection {
                        layer: t,
                        species,
                        l,
                    };
                    let name = format!("/layers/{t}/self_connection/{name}/{l}");
                    push(kind, name, shape.to_vec());
                }
            }
            if h.layer_readouts && t + 1 < self.layers.len() {
                let kind = BlockKind::LayerReadout { layer: t };
                push(kind, format!("/layers/{t}/readout"), vec![c]);
            }
        }
        push(BlockKind::Readout, "/readout".into(), vec![c]);
        match h.dipole {
            None => {}
            Some(DipoleHead::Invariant) => push(
                BlockKind::DipoleCartesian,
                "/dipole/cartesian".into(),
                vec![3, c],
            ),
            Some(head) => {
                push(BlockKind::DipoleCharge, "/dipole/charge".into(), vec![c]);
                if head == DipoleHead::ChargesAndDipoles {
                    push(BlockKind::DipoleAtomic, "/dipole/atomic".into(), vec![c]);
                }
            }
        }
        push(BlockKind::Scale, "/scale".into(), vec![s]);
        push(BlockKind::Shift, "/shift".into(), vec![s]);
        v
    }

    /// Number of numbers in all blocks (scale and shift included).
    pub fn parameter_count(&self) -> usize {
        self.blocks().iter().map(Block::size).sum()
    }

    /// A readable description: hyper-parameters, paths per layer and parameter count, as
    /// `eqmd model show` prints it.
    pub fn describe(&self) -> String {
        let h = &self.hyper;
        let mut out = String::new();
        let line = |out: &mut String, k: &str, v: String| out.push_str(&format!("{k:<16} {v}\n"));
        line(&mut out, "species", h.species.join(", "));
        line(&mut out, "lmax", h.lmax.to_string());
        line(&mut out, "parity", h.parity.to_string());
        line(&mut out, "correlation", h.correlation.to_string());
        let readouts = if h.layer_readouts {
            "every layer"
        } else {
            "last layer"
        };
        line(&mut out, "readouts", readouts.to_string());
        let dipole = h.dipole.map_or("none", DipoleHead::name);
        line(&mut out, "dipole head", dipole.to_string());
        line(&mut out, "channels", h.channels.to_string());
        line(&mut out, "layers", h.layers.to_string());
        line(&mut out, "cutoff", format!("{} Å", h.cutoff));
        line(&mut out, "radial basis", h.radial_basis.to_string());
        let hidden: Vec<String> = h.radial_hidden.iter().map(|w| w.to_string()).collect();
        line(&mut out, "radial hidden", hidden.join(","));
        line(&mut out, "avg neighbours", h.avg_neighbors.to_string());
        let paths: Vec<String> = (self.layers.iter())
            .map(|l| l.instructions.len().to_string())
            .collect();
        line(&mut out, "paths per layer", paths.join(", "));
        if let Some(p) = self.layers.first().and_then(|l| l.product.as_ref()) {
            let counts: Vec<String> = (1..=p.correlation)
                .map(|nu| p.count(nu).to_string())
                .collect();
            line(
                &mut out,
                "product paths",
                format!("{} (ν = 1..{})", counts.join("/"), p.correlation),
            );
        }
        line(&mut out, "parameters", self.parameter_count().to_string());
        out
    }
}
