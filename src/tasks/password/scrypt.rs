//! scrypt (RFC 7914), written here so that its long mixing loop can stop when cancelled: the
//! `scrypt` crate runs it to the end, seconds at a high cost. PBKDF2-HMAC-SHA256 around it
//! comes from the `pbkdf2` crate.

use super::Stopped;
use pbkdf2::pbkdf2_hmac;
use sha2::Sha256;
use std::ops::ControlFlow;

/// Mixing steps between two calls of `steps_done` (well under a millisecond at r = 8).
const STEPS_PER_REPORT: usize = 256;

/// scrypt of `password` and `salt` with N = 2^`log_n`, into `output`. `steps_done(done,
/// total)` follows the mixing steps (2 · N · p of them); when it breaks, scrypt stops.
pub fn scrypt(
    password: &[u8],
    salt: &[u8],
    log_n: u32,
    r: usize,
    p: usize,
    output: &mut [u8],
    steps_done: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
) -> Result<(), Stopped> {
    let block_words = 32 * r;
    let mut blocks = vec![0u8; 4 * block_words * p];
    pbkdf2_hmac::<Sha256>(password, salt, 1, &mut blocks);
    let n = 1usize << log_n;
    let mut memory = super::zeroed::<u32>(n * block_words).ok_or(Stopped::OutOfMemory)?;
    let mut progress = Progress {
        done: 0,
        total: 2 * n * p,
        steps_done,
    };
    for block in blocks.chunks_exact_mut(4 * block_words) {
        romix(block, r, &mut memory, &mut progress)?;
    }
    pbkdf2_hmac::<Sha256>(password, &blocks, 1, output);
    Ok(())
}

struct Progress<'a> {
    done: usize,
    total: usize,
    steps_done: &'a mut dyn FnMut(usize, usize) -> ControlFlow<()>,
}

impl Progress<'_> {
    fn step(&mut self) -> Result<(), Stopped> {
        self.done += 1;
        if self.done.is_multiple_of(STEPS_PER_REPORT)
            && (self.steps_done)(self.done, self.total).is_break()
        {
            return Err(Stopped::Cancelled);
        }
        Ok(())
    }
}

/// ROMix on one block of 128 · r bytes, with `memory` holding N blocks.
fn romix(
    block: &mut [u8],
    r: usize,
    memory: &mut [u32],
    progress: &mut Progress,
) -> Result<(), Stopped> {
    let words = 32 * r;
    let n = memory.len() / words;
    let mut x: Vec<u32> = block
        .chunks_exact(4)
        .map(|word| u32::from_le_bytes(word.try_into().expect("4 bytes")))
        .collect();
    let mut scratch = vec![0u32; words];
    for slot in memory.chunks_exact_mut(words) {
        slot.copy_from_slice(&x);
        block_mix(&mut x, &mut scratch);
        progress.step()?;
    }
    for _ in 0..n {
        // Integerify: the first word of the last 64-byte part, modulo N (a power of two).
        let j = x[words - 16] as usize & (n - 1);
        for (word, earlier) in x.iter_mut().zip(&memory[j * words..(j + 1) * words]) {
            *word ^= earlier;
        }
        block_mix(&mut x, &mut scratch);
        progress.step()?;
    }
    for (bytes, word) in block.chunks_exact_mut(4).zip(&x) {
        bytes.copy_from_slice(&word.to_le_bytes());
    }
    Ok(())
}

/// BlockMix with Salsa20/8 over the 2r 64-byte parts of `b`: even outputs first, then odd.
fn block_mix(b: &mut [u32], scratch: &mut [u32]) {
    let parts = b.len() / 16;
    let mut x: [u32; 16] = b[b.len() - 16..].try_into().expect("16 words");
    for i in 0..parts {
        for (word, input) in x.iter_mut().zip(&b[i * 16..i * 16 + 16]) {
            *word ^= input;
        }
        salsa20_8(&mut x);
        let place = if i % 2 == 0 { i / 2 } else { parts / 2 + i / 2 };
        scratch[place * 16..place * 16 + 16].copy_from_slice(&x);
    }
    b.copy_from_slice(scratch);
}

/// The Salsa20/8 core (RFC 7914, section 3): eight rounds, then the input added back.
fn salsa20_8(b: &mut [u32; 16]) {
    let mut x = *b;
    let mut quarter = |a: usize, b: usize, c: usize, d: usize| {
        x[b] ^= x[a].wrapping_add(x[d]).rotate_left(7);
        x[c] ^= x[b].wrapping_add(x[a]).rotate_left(9);
        x[d] ^= x[c].wrapping_add(x[b]).rotate_left(13);
        x[a] ^= x[d].wrapping_add(x[c]).rotate_left(18);
    };
    for _ in 0..4 {
        // Columns, then rows.
        quarter(0, 4, 8, 12);
        quarter(5, 9, 13, 1);
        quarter(10, 14, 2, 6);
        quarter(15, 3, 7, 11);
        quarter(0, 1, 2, 3);
        quarter(5, 6, 7, 4);
        quarter(10, 11, 8, 9);
        quarter(15, 12, 13, 14);
    }
    for (word, mixed) in b.iter_mut().zip(x) {
        *word = word.wrapping_add(mixed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::password::testing::breaks_at;

    fn run(password: &[u8], salt: &[u8], log_n: u32, r: usize, p: usize, len: usize) -> Vec<u8> {
        let mut output = vec![0; len];
        scrypt(password, salt, log_n, r, p, &mut output, &mut |_, _| {
            ControlFlow::Continue(())
        })
        .unwrap();
        output
    }

    #[test]
    fn equals_the_rfc_7914_vectors() {
        assert_eq!(
            hex::encode(run(b"", b"", 4, 1, 1, 64)),
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442\
             fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"
        );
        assert_eq!(
            hex::encode(run(b"password", b"NaCl", 10, 8, 16, 64)),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162\
             2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
        );
    }

    #[test]
    fn a_break_from_the_progress_stops_the_mixing() {
        let mut reports = 0;
        let mut output = [0; 32];
        let outcome = scrypt(
            b"pw",
            b"salt",
            20,
            8,
            1,
            &mut output,
            &mut breaks_at(2, &mut reports),
        );
        assert_eq!((outcome, reports), (Err(Stopped::Cancelled), 2));
    }
}
