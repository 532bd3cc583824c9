//! The command line: `eqmd run DECK [--set key=value]...`.

use crate::run::{run_deck, RunOptions};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// eqmd: molecular dynamics with classical and machine-learned potentials.
#[derive(Debug, Parser)]
#[command(name = "eqmd", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// The things eqmd does.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the molecular-dynamics simulation an input deck (TOML) describes.
    ///
    /// Writes a thermo CSV (step,time,pe,ke,etotal,temp,press) and, if the deck asks, an
    /// extended-XYZ trajectory. Relative paths in the deck resolve against its folder.
    /// Set RUST_LOG=debug for details.
    Run {
        /// The input deck.
        deck: PathBuf,
        /// Override a deck value, e.g. `--set integrator.steps=20000` (repeatable).
        #[arg(long = "set", value_name = "KEY=VALUE")]
        overrides: Vec<String>,
        /// Folder for relative output paths (default: the deck's folder).
        #[arg(long, value_name = "DIR")]
        output_dir: Option<PathBuf>,
        /// Do not print the thermo table.
        #[arg(long, short)]
        quiet: bool,
        /// Continue from a checkpoint written by an earlier run of this deck, bit for bit,
        /// up to the deck's `integrator.steps`; thermo and trajectory files are appended to.
        #[arg(long, value_name = "FILE")]
        restart: Option<PathBuf>,
    },
}

/// Runs the parsed command line.
pub fn execute(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Run {
            deck,
            overrides,
            output_dir,
            quiet,
            restart,
        } => {
            let options = RunOptions {
                overrides,
                output_dir,
                echo: !quiet,
                progress: true,
                restart,
            };
            // run on a worker of the thread pool, so that the parallel loops of every step
            // start without a hand-off between threads
            let summary = rayon::scope(|_| run_deck(&deck, &options))?;
            if !quiet {
                println!(
                    "{} steps of {} atoms in {:.3} s ({:.4} µs/atom-step); thermo in {}",
                    summary.steps,
                    summary.atoms,
                    summary.seconds,
                    1e6 * summary.seconds / (summary.atoms as f64 * summary.steps.max(1) as f64),
                    summary.thermo_file.display()
                );
            }
            Ok(())
        }
    }
}
