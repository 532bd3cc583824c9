//! Checks, before anything is compiled against it, that the HDF5 C library eqmd writes
//! H5MD trajectories and model files with is installed, and says how to install it if not.

use std::path::Path;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=HDF5_DIR");
    if std::env::var_os("HDF5_DIR").is_some() {
        return;
    }
    let pkg_config = Command::new("pkg-config")
        .args(["--exists", "hdf5"])
        .status()
        .is_ok_and(|s| s.success());
    let headers = [
        "/usr/include/hdf5/serial/hdf5.h",
        "/usr/include/hdf5.h",
        "/usr/local/include/hdf5.h",
        "/opt/homebrew/include/hdf5.h",
        "/usr/local/opt/hdf5/include/hdf5.h",
    ];
    if pkg_config || headers.iter().any(|h| Path::new(h).exists()) {
        return;
    }
    panic!(
        "\n\neqmd needs the HDF5 C library (for H5MD trajectories and model files), and it \
         was not found.\nInstall it, then build again:\n  Debian/Ubuntu: apt-get install -y \
         libhdf5-dev\n  Fedora: dnf install hdf5-devel\n  macOS: brew install hdf5\nor point \
         HDF5_DIR at an HDF5 installation.\n"
    );
}
