//! The instruction set the build assumes (`.cargo/config.toml`: x86-64-v3, AVX2 and FMA),
//! checked before anything runs, so that an older CPU gets a message instead of an
//! illegal-instruction crash.

/// What the running CPU lacks of the instruction set this build was compiled for, as a
/// message saying how to build for it; None when it has everything.
pub fn unsupported() -> Option<String> {
    #[cfg(target_arch = "x86_64")]
    {
        let built = [
            (
                "AVX2",
                cfg!(target_feature = "avx2"),
                is_x86_feature_detected!("avx2"),
            ),
            (
                "FMA",
                cfg!(target_feature = "fma"),
                is_x86_feature_detected!("fma"),
            ),
        ];
        let missing: Vec<&str> = (built.iter())
            .filter(|(_, assumed, present)| *assumed && !*present)
            .map(|(name, ..)| *name)
            .collect();
        if !missing.is_empty() {
            return Some(format!(
                "this eqmd was built for CPUs with {} (x86-64-v3, .cargo/config.toml), which \
                 this CPU lacks; build it for this one with \
                 RUSTFLAGS=\"-C target-cpu=native\" cargo build --release",
                missing.join(" and ")
            ));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    /// A build for AVX2 and FMA (the default one) runs on this machine, which has them.
    #[test]
    #[cfg(all(
        target_arch = "x86_64",
        target_feature = "avx2",
        target_feature = "fma"
    ))]
    fn an_avx2_build_runs_on_a_cpu_with_avx2() {
        assert!(is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma"));
        assert_eq!(super::unsupported(), None);
    }
}
