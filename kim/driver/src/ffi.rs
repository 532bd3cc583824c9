//! The part of the KIM API's C interface (kim-api 2.2 and later) a model driver uses:
//! opaque handles, the one-int enumeration structs passed by value, their constants
//! (extern statics of libkim-api) and the functions, as `KIM_*.h` declare them.

use std::os::raw::{c_char, c_int, c_void};

/// Declares opaque KIM handle types.
macro_rules! opaque {
    ($($name:ident),*) => {
        $(
            #[repr(C)]
            pub struct $name {
                _private: [u8; 0],
            }
        )*
    };
}

opaque!(
    ModelDriverCreate,
    ModelCompute,
    ModelComputeArguments,
    ModelComputeArgumentsCreate,
    ModelComputeArgumentsDestroy,
    ModelDestroy
);

/// A KIM enumeration value (every KIM enumeration is a struct of one int).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Enum {
    pub id: c_int,
}

/// KIM's generic function pointer, `void (*)(void)`.
pub type Function = unsafe extern "C" fn();

extern "C" {
    pub static KIM_LENGTH_UNIT_A: Enum;
    pub static KIM_ENERGY_UNIT_eV: Enum;
    pub static KIM_CHARGE_UNIT_unused: Enum;
    pub static KIM_TEMPERATURE_UNIT_unused: Enum;
    pub static KIM_TIME_UNIT_unused: Enum;
    pub static KIM_NUMBERING_zeroBased: Enum;
    pub static KIM_LANGUAGE_NAME_c: Enum;
    pub static KIM_SUPPORT_STATUS_optional: Enum;
    pub static KIM_LOG_VERBOSITY_error: Enum;
    pub static KIM_MODEL_ROUTINE_NAME_ComputeArgumentsCreate: Enum;
    pub static KIM_MODEL_ROUTINE_NAME_Compute: Enum;
    pub static KIM_MODEL_ROUTINE_NAME_ComputeArgumentsDestroy: Enum;
    pub static KIM_MODEL_ROUTINE_NAME_Destroy: Enum;
    pub static KIM_COMPUTE_ARGUMENT_NAME_numberOfParticles: Enum;
    pub static KIM_COMPUTE_ARGUMENT_NAME_particleSpeciesCodes: Enum;
    pub static KIM_COMPUTE_ARGUMENT_NAME_particleContributing: Enum;
    pub static KIM_COMPUTE_ARGUMENT_NAME_coordinates: Enum;
    pub static KIM_COMPUTE_ARGUMENT_NAME_partialEnergy: Enum;
    pub static KIM_COMPUTE_ARGUMENT_NAME_partialForces: Enum;
    pub static KIM_COMPUTE_ARGUMENT_NAME_partialParticleEnergy: Enum;
    pub static KIM_COMPUTE_ARGUMENT_NAME_partialVirial: Enum;

    pub fn KIM_SpeciesName_FromString(name: *const c_char) -> Enum;

    pub fn KIM_ModelDriverCreate_SetUnits(
        create: *mut ModelDriverCreate,
        length: Enum,
        energy: Enum,
        charge: Enum,
        temperature: Enum,
        time: Enum,
    ) -> c_int;
    pub fn KIM_ModelDriverCreate_SetModelNumbering(
        create: *mut ModelDriverCreate,
        numbering: Enum,
    ) -> c_int;
    pub fn KIM_ModelDriverCreate_GetNumberOfParameterFiles(
        create: *const ModelDriverCreate,
        count: *mut c_int,
    );
    pub fn KIM_ModelDriverCreate_GetParameterFileDirectoryName(
        create: *const ModelDriverCreate,
        directory: *mut *const c_char,
    );
    pub fn KIM_ModelDriverCreate_GetParameterFileBasename(
        create: *const ModelDriverCreate,
        index: c_int,
        basename: *mut *const c_char,
    ) -> c_int;
    pub fn KIM_ModelDriverCreate_SetSpeciesCode(
        create: *mut ModelDriverCreate,
        species: Enum,
        code: c_int,
    ) -> c_int;
    pub fn KIM_ModelDriverCreate_SetInfluenceDistancePointer(
        create: *mut ModelDriverCreate,
        distance: *const f64,
    );
    pub fn KIM_ModelDriverCreate_SetNeighborListPointers(
        create: *mut ModelDriverCreate,
        lists: c_int,
        cutoffs: *const f64,
        will_not_request_padding_neighbors: *const c_int,
    );
    pub fn KIM_ModelDriverCreate_SetRoutinePointer(
        create: *mut ModelDriverCreate,
        routine: Enum,
        language: Enum,
        required: c_int,
        function: Function,
    ) -> c_int;
    pub fn KIM_ModelDriverCreate_SetModelBufferPointer(
        create: *mut ModelDriverCreate,
        buffer: *mut c_void,
    );
    pub fn KIM_ModelDriverCreate_LogEntry(
        create: *const ModelDriverCreate,
        verbosity: Enum,
        message: *const c_char,
        line: c_int,
        file: *const c_char,
    );

    pub fn KIM_ModelCompute_GetModelBufferPointer(
        compute: *const ModelCompute,
        buffer: *mut *mut c_void,
    );
    pub fn KIM_ModelComputeArguments_GetArgumentPointerInteger(
        arguments: *const ModelComputeArguments,
        name: Enum,
        pointer: *mut *mut c_int,
    ) -> c_int;
    pub fn KIM_ModelComputeArguments_GetArgumentPointerDouble(
        arguments: *const ModelComputeArguments,
        name: Enum,
        pointer: *mut *mut f64,
    ) -> c_int;
    pub fn KIM_ModelComputeArguments_LogEntry(
        arguments: *const ModelComputeArguments,
        verbosity: Enum,
        message: *const c_char,
        line: c_int,
        file: *const c_char,
    );
    pub fn KIM_ModelComputeArgumentsCreate_SetArgumentSupportStatus(
        create: *mut ModelComputeArgumentsCreate,
        name: Enum,
        status: Enum,
    ) -> c_int;
    pub fn KIM_ModelDestroy_GetModelBufferPointer(
        destroy: *const ModelDestroy,
        buffer: *mut *mut c_void,
    );
}
