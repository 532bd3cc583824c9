//! eqmd's equivariant network as a KIM portable-model driver, so that a model file runs in
//! LAMMPS (across MPI ranks), in ASE through kimpy, and in any KIM simulator.
//!
//! A KIM model of this driver has one parameter file, an eqmd model file (HDF5). Each call
//! gets the particles a process holds, contributing (owned) and padding (ghosts out to the
//! influence distance, layers × cutoff, so that every owned atom's energy sees all it
//! depends on). The network runs on all of them with eqmd's own neighbour list; the energy
//! is that of the contributing particles alone (`Equivariant::compute_weighted`, the same
//! code as `eqmd run`), and its gradient goes onto every particle, padding included: the
//! simulator adds the forces on padding particles to their owners. Units are eV and Å.
//!
//! Only [`eqmd_kim_driver_create`] is exported; the other routines are registered with KIM
//! as C functions. No panic crosses into the simulator: each routine catches them and
//! reports an error through KIM's log.

mod ffi;

use eqmd::cell::Cell;
use eqmd::neighbors::{ListKind, NeighborList};
use eqmd::potential::equivariant::file::load;
use eqmd::potential::equivariant::potential::Equivariant;
use eqmd::potential::ForceOutput;
use eqmd::system::System;
use eqmd::units::Units;
use ffi::*;
use glam::DVec3;
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};
use std::path::PathBuf;

/// What a model instance keeps from its creation to its destruction. KIM holds pointers to
/// `influence`, `cutoff` and `padding_neighbors`, so the driver lives boxed, at one address.
struct Driver {
    network: Equivariant,
    species: Vec<String>,
    influence: f64,
    cutoff: [f64; 1],
    /// 1: the driver never asks KIM for neighbours of padding particles (it uses its own).
    padding_neighbors: c_int,
    pool: rayon::ThreadPool,
}

/// Runs `f`, turning a panic into an error message.
fn guard(f: impl FnOnce() -> Result<(), String>) -> Result<(), String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).unwrap_or_else(|p| {
        let what = p
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        Err(format!("eqmd panicked: {what}"))
    })
}

/// A C string of `message` (interior NULs replaced).
fn c_text(message: &str) -> CString {
    CString::new(message.replace('\0', " ")).unwrap_or_default()
}

/// The create routine KIM calls for every model of this driver: reads the model file,
/// registers units, species, cutoffs and the other routines.
///
/// # Safety
/// Called by the KIM API with a valid `create` handle.
#[no_mangle]
pub unsafe extern "C" fn eqmd_kim_driver_create(
    create: *mut ModelDriverCreate,
    _length: Enum,
    _energy: Enum,
    _charge: Enum,
    _temperature: Enum,
    _time: Enum,
) -> c_int {
    let result = guard(|| unsafe { driver_create(create) });
    report(result, |m, f, line| unsafe {
        KIM_ModelDriverCreate_LogEntry(create, KIM_LOG_VERBOSITY_error, m, line, f)
    })
}

/// 0 for success; else 1, with the message logged through `log` (message, file, line: one
/// of KIM's log-entry routines) and on stderr.
fn report(
    result: Result<(), String>,
    log: impl FnOnce(*const c_char, *const c_char, c_int),
) -> c_int {
    match result {
        Ok(()) => 0,
        Err(message) => {
            let (m, f) = (c_text(&message), c_text(file!()));
            log(m.as_ptr(), f.as_ptr(), line!() as c_int);
            eprintln!("eqmd KIM driver: {message}");
            1
        }
    }
}

/// The model file KIM hands over as the model's one parameter file.
unsafe fn parameter_file(create: *mut ModelDriverCreate) -> Result<PathBuf, String> {
    let mut count = 0;
    unsafe { KIM_ModelDriverCreate_GetNumberOfParameterFiles(create, &mut count) };
    if count != 1 {
        return Err(format!(
            "a model of this driver has one parameter file (an eqmd model file), this one has {count}"
        ));
    }
    let (mut dir, mut base): (*const c_char, *const c_char) = (std::ptr::null(), std::ptr::null());
    unsafe { KIM_ModelDriverCreate_GetParameterFileDirectoryName(create, &mut dir) };
    if unsafe { KIM_ModelDriverCreate_GetParameterFileBasename(create, 0, &mut base) } != 0
        || dir.is_null()
        || base.is_null()
    {
        return Err("KIM gave no parameter file name".into());
    }
    let text = |p: *const c_char| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned();
    Ok(PathBuf::from(text(dir)).join(text(base)))
}

unsafe fn driver_create(create: *mut ModelDriverCreate) -> Result<(), String> {
    let fail = |what: &str| Err::<(), String>(format!("cannot {what}"));
    let status = unsafe {
        KIM_ModelDriverCreate_SetUnits(
            create,
            KIM_LENGTH_UNIT_A,
            KIM_ENERGY_UNIT_eV,
            KIM_CHARGE_UNIT_unused,
            KIM_TEMPERATURE_UNIT_unused,
            KIM_TIME_UNIT_unused,
        ) | KIM_ModelDriverCreate_SetModelNumbering(create, KIM_NUMBERING_zeroBased)
    };
    if status != 0 {
        return fail("set units (Å, eV) and zero-based numbering");
    }
    let path = unsafe { parameter_file(create) }?;
    let model = load(&path).map_err(|e| e.to_string())?;
    let species = model.hyper.species.clone();
    let layers = model.hyper.layers as f64;
    let cutoff = model.hyper.cutoff;
    let network = Equivariant::new(model, &species)?;
    for (code, name) in species.iter().enumerate() {
        let c = c_text(name);
        let kim_name = unsafe { KIM_SpeciesName_FromString(c.as_ptr()) };
        if unsafe { KIM_ModelDriverCreate_SetSpeciesCode(create, kim_name, code as c_int) } != 0 {
            return Err(format!(
                "the model's species `{name}` is not a KIM species name"
            ));
        }
    }
    let threads = std::env::var("EQMD_NUM_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1);
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| format!("cannot start {threads} threads: {e}"))?;
    let driver = Box::new(Driver {
        network,
        species,
        influence: layers * cutoff,
        cutoff: [cutoff],
        padding_neighbors: 1,
        pool,
    });
    let driver = Box::into_raw(driver);
    unsafe {
        KIM_ModelDriverCreate_SetModelBufferPointer(create, driver as *mut c_void);
        KIM_ModelDriverCreate_SetInfluenceDistancePointer(create, &(*driver).influence);
        KIM_ModelDriverCreate_SetNeighborListPointers(
            create,
            1,
            (*driver).cutoff.as_ptr(),
            &(*driver).padding_neighbors,
        );
    }
    let routines: [(Enum, Function); 4] = unsafe {
        [
            (
                KIM_MODEL_ROUTINE_NAME_ComputeArgumentsCreate,
                std::mem::transmute::<ArgumentsCreateFn, Function>(compute_arguments_create),
            ),
            (
                KIM_MODEL_ROUTINE_NAME_Compute,
                std::mem::transmute::<ComputeFn, Function>(compute),
            ),
            (
                KIM_MODEL_ROUTINE_NAME_ComputeArgumentsDestroy,
                std::mem::transmute::<ArgumentsDestroyFn, Function>(compute_arguments_destroy),
            ),
            (
                KIM_MODEL_ROUTINE_NAME_Destroy,
                std::mem::transmute::<DestroyFn, Function>(destroy),
            ),
        ]
    };
    for (name, function) in routines {
        let status = unsafe {
            KIM_ModelDriverCreate_SetRoutinePointer(create, name, KIM_LANGUAGE_NAME_c, 1, function)
        };
        if status != 0 {
            return fail("register the driver's routines");
        }
    }
    Ok(())
}

type ArgumentsCreateFn =
    unsafe extern "C" fn(*const ModelCompute, *mut ModelComputeArgumentsCreate) -> c_int;
type ComputeFn = unsafe extern "C" fn(*const ModelCompute, *const ModelComputeArguments) -> c_int;
type ArgumentsDestroyFn =
    unsafe extern "C" fn(*const ModelCompute, *mut ModelComputeArgumentsDestroy) -> c_int;
type DestroyFn = unsafe extern "C" fn(*mut ModelDestroy) -> c_int;

/// Declares what a compute can give: energy, forces, per-particle energies, virial.
unsafe extern "C" fn compute_arguments_create(
    _compute: *const ModelCompute,
    create: *mut ModelComputeArgumentsCreate,
) -> c_int {
    let names = unsafe {
        [
            KIM_COMPUTE_ARGUMENT_NAME_partialEnergy,
            KIM_COMPUTE_ARGUMENT_NAME_partialForces,
            KIM_COMPUTE_ARGUMENT_NAME_partialParticleEnergy,
            KIM_COMPUTE_ARGUMENT_NAME_partialVirial,
        ]
    };
    names.iter().fold(0, |status, &name| {
        status
            | unsafe {
                KIM_ModelComputeArgumentsCreate_SetArgumentSupportStatus(
                    create,
                    name,
                    KIM_SUPPORT_STATUS_optional,
                )
            }
    })
}

unsafe extern "C" fn compute_arguments_destroy(
    _compute: *const ModelCompute,
    _destroy: *mut ModelComputeArgumentsDestroy,
) -> c_int {
    0
}

unsafe extern "C" fn destroy(destroy: *mut ModelDestroy) -> c_int {
    let mut buffer: *mut c_void = std::ptr::null_mut();
    unsafe { KIM_ModelDestroy_GetModelBufferPointer(destroy, &mut buffer) };
    if !buffer.is_null() {
        drop(unsafe { Box::from_raw(buffer as *mut Driver) });
    }
    0
}

/// One compute: energy, forces, per-particle energies and virial of the contributing
/// particles' energy, as KIM asks for them.
unsafe extern "C" fn compute(
    compute: *const ModelCompute,
    arguments: *const ModelComputeArguments,
) -> c_int {
    let result = guard(|| unsafe { compute_inner(compute, arguments) });
    report(result, |m, f, line| unsafe {
        KIM_ModelComputeArguments_LogEntry(arguments, KIM_LOG_VERBOSITY_error, m, line, f)
    })
}

/// The KIM argument `name` as a pointer to ints (null when the simulator gave none).
unsafe fn ints(arguments: *const ModelComputeArguments, name: Enum) -> Result<*mut c_int, String> {
    let mut p = std::ptr::null_mut();
    if unsafe { KIM_ModelComputeArguments_GetArgumentPointerInteger(arguments, name, &mut p) } != 0
    {
        return Err("cannot get an integer argument from KIM".into());
    }
    Ok(p)
}

/// The KIM argument `name` as a pointer to doubles (null when the simulator gave none).
unsafe fn doubles(arguments: *const ModelComputeArguments, name: Enum) -> Result<*mut f64, String> {
    let mut p = std::ptr::null_mut();
    if unsafe { KIM_ModelComputeArguments_GetArgumentPointerDouble(arguments, name, &mut p) } != 0 {
        return Err("cannot get a real argument from KIM".into());
    }
    Ok(p)
}

unsafe fn compute_inner(
    compute: *const ModelCompute,
    arguments: *const ModelComputeArguments,
) -> Result<(), String> {
    let mut buffer: *mut c_void = std::ptr::null_mut();
    unsafe { KIM_ModelCompute_GetModelBufferPointer(compute, &mut buffer) };
    let driver = unsafe { (buffer as *const Driver).as_ref() }.ok_or("no model buffer")?;
    let (n, codes, contributing, coordinates, energy, forces, particle_energy, virial) = unsafe {
        (
            ints(arguments, KIM_COMPUTE_ARGUMENT_NAME_numberOfParticles)?,
            ints(arguments, KIM_COMPUTE_ARGUMENT_NAME_particleSpeciesCodes)?,
            ints(arguments, KIM_COMPUTE_ARGUMENT_NAME_particleContributing)?,
            doubles(arguments, KIM_COMPUTE_ARGUMENT_NAME_coordinates)?,
            doubles(arguments, KIM_COMPUTE_ARGUMENT_NAME_partialEnergy)?,
            doubles(arguments, KIM_COMPUTE_ARGUMENT_NAME_partialForces)?,
            doubles(arguments, KIM_COMPUTE_ARGUMENT_NAME_partialParticleEnergy)?,
            doubles(arguments, KIM_COMPUTE_ARGUMENT_NAME_partialVirial)?,
        )
    };
    if n.is_null() || codes.is_null() || contributing.is_null() || coordinates.is_null() {
        return Err("KIM gave no particles".into());
    }
    let n = usize::try_from(unsafe { *n }).map_err(|_| "a negative number of particles")?;
    let (codes, contributing, coordinates) = unsafe {
        (
            std::slice::from_raw_parts(codes, n),
            std::slice::from_raw_parts(contributing, n),
            std::slice::from_raw_parts(coordinates, 3 * n),
        )
    };
    let system = particles(driver, codes, coordinates)?;
    let weight: Vec<f64> = contributing
        .iter()
        .map(|&c| if c != 0 { 1.0 } else { 0.0 })
        .collect();
    let per_atom = !particle_energy.is_null();
    let out = driver.pool.install(|| {
        let mut system = system;
        let mut list = NeighborList::new(ListKind::Full, driver.cutoff[0], 0.0);
        list.rebuild(&mut system);
        let mut out = ForceOutput::new(n);
        if per_atom {
            out = out.with_per_atom_energy();
        }
        driver
            .network
            .compute_weighted(&system, &list, Some(&weight), &mut out);
        out
    });
    unsafe {
        if let Some(e) = energy.as_mut() {
            *e = out.energy;
        }
        if !forces.is_null() {
            let f = std::slice::from_raw_parts_mut(forces, 3 * n);
            for (chunk, force) in f.chunks_exact_mut(3).zip(&out.forces) {
                chunk.copy_from_slice(&force.to_array());
            }
        }
        if let (false, Some(per_atom)) = (particle_energy.is_null(), &out.per_atom_energy) {
            std::slice::from_raw_parts_mut(particle_energy, n).copy_from_slice(per_atom);
        }
        if !virial.is_null() {
            // KIM's order: xx, yy, zz, yz, xz, xy
            let w = out.virial;
            let v = std::slice::from_raw_parts_mut(virial, 6);
            v.copy_from_slice(&[
                w.x_axis.x,
                w.y_axis.y,
                w.z_axis.z,
                0.5 * (w.y_axis.z + w.z_axis.y),
                0.5 * (w.x_axis.z + w.z_axis.x),
                0.5 * (w.x_axis.y + w.y_axis.x),
            ]);
        }
    }
    Ok(())
}

/// The particles as an eqmd system in vacuum, species by the model's codes.
fn particles(driver: &Driver, codes: &[c_int], coordinates: &[f64]) -> Result<System, String> {
    let mut system = System::new(Cell::vacuum(), Units::Metal);
    for name in &driver.species {
        system.add_species(name, 1.0);
    }
    for (i, (&code, r)) in codes.iter().zip(coordinates.chunks_exact(3)).enumerate() {
        let species = usize::try_from(code)
            .ok()
            .filter(|&s| s < driver.species.len())
            .ok_or_else(|| {
                format!(
                    "particle {i} has species code {code}; this model knows {}",
                    driver.species.join(", ")
                )
            })?;
        let r = DVec3::new(r[0], r[1], r[2]);
        if !r.is_finite() {
            return Err(format!("particle {i} is at {r}, not a finite position"));
        }
        system.add_atom(species, r);
    }
    Ok(system)
}
