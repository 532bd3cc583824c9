//! The random-number generator of the stochastic integrators (Langevin, C-rescale) as
//! words, so that a checkpoint can put it back where it was.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Words a generator's state takes: seed (4), stream, word position (2).
pub const RNG_WORDS: usize = 7;

/// The generator's seed, stream and word position as 7 words.
pub fn rng_state(rng: &ChaCha8Rng) -> [u64; RNG_WORDS] {
    let seed = rng.get_seed();
    let mut words = [0u64; RNG_WORDS];
    for (w, c) in words.iter_mut().zip(seed.chunks_exact(8)) {
        *w = u64::from_le_bytes(c.try_into().expect("8 bytes"));
    }
    let pos = rng.get_word_pos();
    words[4] = rng.get_stream();
    words[5] = pos as u64;
    words[6] = (pos >> 64) as u64;
    words
}

/// The generator `rng_state` described.
pub fn rng_from_state(words: &[u64; RNG_WORDS]) -> ChaCha8Rng {
    let mut seed = [0u8; 32];
    for (chunk, w) in seed.chunks_exact_mut(8).zip(&words[..4]) {
        chunk.copy_from_slice(&w.to_le_bytes());
    }
    let mut rng = ChaCha8Rng::from_seed(seed);
    rng.set_stream(words[4]);
    rng.set_word_pos(u128::from(words[5]) | (u128::from(words[6]) << 64));
    rng
}
