//! Argon2 (RFC 9106), written here so that its passes over memory can stop when cancelled:
//! the `argon2` crate runs them to the end, seconds at a high cost. BLAKE2b comes from the
//! `blake2` crate.

use super::Stopped;
use blake2::digest::{Digest, Update, VariableOutput};
use blake2::{Blake2b512, Blake2bVar};
use std::ops::ControlFlow;

/// Blocks filled between two calls of `blocks_done` (about a millisecond).
const BLOCKS_PER_REPORT: usize = 256;
const WORDS: usize = 128;
const SLICES: usize = 4;

type Block = [u64; WORDS];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Argon2d = 0,
    Argon2i = 1,
    Argon2id = 2,
}

/// The costs and shape of one hash, as a PHC string or `hashPassword` gives them.
#[derive(Debug, Clone, Copy)]
pub struct Params {
    pub variant: Variant,
    /// 0x10 or 0x13.
    pub version: u32,
    pub memory_kib: u32,
    pub passes: u32,
    pub lanes: u32,
}

/// Argon2 of `password` and `salt` into `output` (no secret, no associated data).
/// `blocks_done(done, total)` follows the blocks filled; when it breaks, Argon2 stops.
pub fn argon2(
    params: Params,
    password: &[u8],
    salt: &[u8],
    output: &mut [u8],
    blocks_done: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
) -> Result<(), Stopped> {
    let lanes = params.lanes.max(1) as usize;
    let segment = (params.memory_kib as usize).max(8 * lanes) / (SLICES * lanes);
    let lane_len = segment * SLICES;
    let mut memory = super::zeroed::<Block>(lane_len * lanes).ok_or(Stopped::OutOfMemory)?;

    let mut h0 = Blake2b512::new();
    for word in [
        params.lanes,
        output.len() as u32,
        params.memory_kib,
        params.passes,
        params.version,
        params.variant as u32,
    ] {
        Digest::update(&mut h0, word.to_le_bytes());
    }
    for field in [password, salt, &[], &[]] {
        Digest::update(&mut h0, (field.len() as u32).to_le_bytes());
        Digest::update(&mut h0, field);
    }
    let h0 = h0.finalize();
    for lane in 0..lanes {
        for column in 0..2u32 {
            let mut bytes = [0u8; 1024];
            long_hash(
                &[&h0, &column.to_le_bytes(), &(lane as u32).to_le_bytes()],
                &mut bytes,
            );
            memory[lane * lane_len + column as usize] = block_of(&bytes);
        }
    }

    let shape = Shape {
        params,
        lanes,
        segment,
        lane_len,
    };
    let total = (params.passes as usize) * lane_len * lanes;
    let mut done = 2 * lanes;
    for pass in 0..params.passes as usize {
        for slice in 0..SLICES {
            for lane in 0..lanes {
                let filled = shape.fill_segment(&mut memory, pass, slice, lane);
                let before = done;
                done += filled;
                if before / BLOCKS_PER_REPORT != done / BLOCKS_PER_REPORT
                    && blocks_done(done, total).is_break()
                {
                    return Err(Stopped::Cancelled);
                }
            }
        }
    }

    let mut last = memory[lane_len - 1];
    for lane in 1..lanes {
        xor_into(&mut last, &memory[lane * lane_len + lane_len - 1]);
    }
    let mut bytes = [0u8; 1024];
    for (chunk, word) in bytes.chunks_exact_mut(8).zip(last) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    long_hash(&[&bytes], output);
    Ok(())
}

struct Shape {
    params: Params,
    lanes: usize,
    segment: usize,
    lane_len: usize,
}

impl Shape {
    /// Fills one segment of one lane; returns how many blocks it filled.
    fn fill_segment(&self, memory: &mut [Block], pass: usize, slice: usize, lane: usize) -> usize {
        let Shape {
            params,
            lanes,
            segment,
            lane_len,
        } = *self;
        let independent = match params.variant {
            Variant::Argon2i => true,
            Variant::Argon2d => false,
            Variant::Argon2id => pass == 0 && slice < SLICES / 2,
        };
        let mut addresses = Addresses::new(params, pass, lane, slice, lanes * lane_len);
        let first = if pass == 0 && slice == 0 { 2 } else { 0 };
        if independent && first == 2 {
            addresses.next();
        }
        for index in first..segment {
            let column = slice * segment + index;
            let current = lane * lane_len + column;
            let previous = if column == 0 {
                current + lane_len - 1
            } else {
                current - 1
            };
            let random = if independent {
                if index % WORDS == 0 {
                    addresses.next();
                }
                addresses.block[index % WORDS]
            } else {
                memory[previous][0]
            };
            let reference_lane = if pass == 0 && slice == 0 {
                lane
            } else {
                (random >> 32) as usize % lanes
            };
            let same_lane = reference_lane == lane;
            // The blocks this one may refer to: those finished in earlier segments (all of
            // this lane's before it), less the one being overwritten.
            let area = match (pass, same_lane) {
                (0, true) => column - 1,
                (0, false) => slice * segment - usize::from(index == 0),
                (_, true) => lane_len - segment + index - 1,
                (_, false) => lane_len - segment - usize::from(index == 0),
            } as u64;
            let j1 = random & 0xffff_ffff;
            let relative = area - 1 - ((area * ((j1 * j1) >> 32)) >> 32);
            let start = if pass == 0 {
                0
            } else {
                (slice + 1) % SLICES * segment
            };
            let reference = reference_lane * lane_len + (start + relative as usize) % lane_len;
            let xor = params.version == 0x13 && pass > 0;
            let next = compress(&memory[previous], &memory[reference]);
            if xor {
                xor_into(&mut memory[current], &next);
            } else {
                memory[current] = next;
            }
        }
        segment - first
    }
}

/// Argon2i's pseudo-random addresses, 128 at a time.
struct Addresses {
    input: Block,
    block: Block,
}

impl Addresses {
    fn new(params: Params, pass: usize, lane: usize, slice: usize, blocks: usize) -> Self {
        let mut input = [0; WORDS];
        input[..6].copy_from_slice(&[
            pass as u64,
            lane as u64,
            slice as u64,
            blocks as u64,
            u64::from(params.passes),
            params.variant as u64,
        ]);
        Addresses {
            input,
            block: [0; WORDS],
        }
    }

    fn next(&mut self) {
        self.input[6] += 1;
        let zero = [0; WORDS];
        self.block = compress(&zero, &compress(&zero, &self.input));
    }
}

fn xor_into(into: &mut Block, from: &Block) {
    for (word, other) in into.iter_mut().zip(from) {
        *word ^= other;
    }
}

/// The compression function G: BLAKE2b's round with BlaMka's multiplications, over the
/// rows then the columns of X ⊕ Y seen as 8 × 8 registers of two words, then ⊕ X ⊕ Y.
/// Built twice on x86-64, the second time for AVX2, whose 256-bit registers hold the four
/// words each step of `mix` works on.
fn compress(x: &Block, y: &Block) -> Block {
    #[cfg(target_arch = "x86_64")]
    if std::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU has AVX2, checked just above.
        return unsafe { compress_avx2(x, y) };
    }
    compress_portable(x, y)
}

/// # Safety
/// The CPU must have AVX2.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn compress_avx2(x: &Block, y: &Block) -> Block {
    compress_portable(x, y)
}

#[inline(always)]
fn compress_portable(x: &Block, y: &Block) -> Block {
    let mut r = *x;
    xor_into(&mut r, y);
    let mut z = r;
    for row in z.chunks_exact_mut(16) {
        round(row.try_into().expect("16 words"));
    }
    for column in 0..8 {
        let at: [usize; 16] = std::array::from_fn(|i| 2 * column + (i / 2) * 16 + i % 2);
        let mut words: [u64; 16] = std::array::from_fn(|i| z[at[i]]);
        round(&mut words);
        for (i, word) in words.into_iter().enumerate() {
            z[at[i]] = word;
        }
    }
    xor_into(&mut z, &r);
    z
}

/// Four 64-bit words that go through the same steps, which the compiler keeps in one vector.
type Quad = [u64; 4];

/// BLAKE2b's round without a message over 16 words: G on the four columns of the 4 × 4
/// matrix at once, then on its four diagonals (the rows turned so that they line up).
#[inline(always)]
fn round(v: &mut [u64; 16]) {
    let row = |i: usize| -> Quad { std::array::from_fn(|j| v[4 * i + j]) };
    let (mut a, mut b, mut c, mut d) = (row(0), row(1), row(2), row(3));
    mix(&mut a, &mut b, &mut c, &mut d);
    let (mut b, mut c, mut d) = (turned(b, 1), turned(c, 2), turned(d, 3));
    mix(&mut a, &mut b, &mut c, &mut d);
    let (b, c, d) = (turned(b, 3), turned(c, 2), turned(d, 1));
    for (i, quad) in [a, b, c, d].into_iter().enumerate() {
        v[4 * i..4 * i + 4].copy_from_slice(&quad);
    }
}

#[inline(always)]
fn turned(q: Quad, by: usize) -> Quad {
    std::array::from_fn(|i| q[(i + by) % 4])
}

/// BLAKE2b's G with BlaMka's `x + y + 2·lo(x)·lo(y)` in place of its additions.
#[inline(always)]
fn mix(a: &mut Quad, b: &mut Quad, c: &mut Quad, d: &mut Quad) {
    #[inline(always)]
    fn blamka(x: Quad, y: Quad) -> Quad {
        std::array::from_fn(|i| {
            let product = (x[i] & 0xffff_ffff).wrapping_mul(y[i] & 0xffff_ffff);
            x[i].wrapping_add(y[i])
                .wrapping_add(product.wrapping_mul(2))
        })
    }
    #[inline(always)]
    fn xor_rotated(x: Quad, y: Quad, by: u32) -> Quad {
        std::array::from_fn(|i| (x[i] ^ y[i]).rotate_right(by))
    }
    *a = blamka(*a, *b);
    *d = xor_rotated(*d, *a, 32);
    *c = blamka(*c, *d);
    *b = xor_rotated(*b, *c, 24);
    *a = blamka(*a, *b);
    *d = xor_rotated(*d, *a, 16);
    *c = blamka(*c, *d);
    *b = xor_rotated(*b, *c, 63);
}

fn block_of(bytes: &[u8; 1024]) -> Block {
    std::array::from_fn(|i| u64::from_le_bytes(bytes[8 * i..8 * i + 8].try_into().expect("8")))
}

/// H′, Argon2's hash of any output length: BLAKE2b of the length and the input, chained in
/// 32-byte steps past 64 bytes.
fn long_hash(inputs: &[&[u8]], output: &mut [u8]) {
    let blake2b = |len: usize, parts: &[&[u8]], out: &mut [u8]| {
        let mut hasher = Blake2bVar::new(len).expect("1..=64 bytes");
        for part in parts {
            hasher.update(part);
        }
        hasher.finalize_variable(out).expect("the length asked for");
    };
    let len = (output.len() as u32).to_le_bytes();
    let mut parts = vec![&len[..]];
    parts.extend_from_slice(inputs);
    if output.len() <= 64 {
        blake2b(output.len(), &parts, output);
        return;
    }
    let mut v = [0u8; 64];
    blake2b(64, &parts, &mut v);
    let mut written = 0;
    loop {
        output[written..written + 32].copy_from_slice(&v[..32]);
        written += 32;
        let rest = output.len() - written;
        let previous = v;
        if rest <= 64 {
            blake2b(rest, &[&previous], &mut output[written..]);
            return;
        }
        blake2b(64, &[&previous], &mut v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::password::differential::argon2_crate_s;
    use crate::tasks::password::testing::breaks_at;

    fn ours(params: Params, password: &[u8], salt: &[u8], len: usize) -> Vec<u8> {
        let mut output = vec![0u8; len];
        argon2(params, password, salt, &mut output, &mut |_, _| {
            ControlFlow::Continue(())
        })
        .unwrap();
        output
    }

    /// Every variant, version, lane count and output length, against the `argon2` crate.
    #[test]
    fn equals_the_argon2_crate() {
        for variant in [Variant::Argon2d, Variant::Argon2i, Variant::Argon2id] {
            for version in [0x10, 0x13] {
                for (memory_kib, passes, lanes) in [(8, 1, 1), (64, 3, 1), (100, 2, 4), (512, 1, 3)]
                {
                    for len in [4, 32, 64, 65, 100, 128] {
                        let params = Params {
                            variant,
                            version,
                            memory_kib,
                            passes,
                            lanes,
                        };
                        assert_eq!(
                            ours(params, b"password", b"somesalt", len),
                            argon2_crate_s(params, b"password", b"somesalt", len),
                            "{params:?}, {len} bytes"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn a_break_from_the_progress_stops_the_passes() {
        let mut reports = 0;
        let mut output = [0u8; 32];
        let params = Params {
            variant: Variant::Argon2id,
            version: 0x13,
            memory_kib: 19 * 1024,
            passes: 64,
            lanes: 1,
        };
        let outcome = argon2(
            params,
            b"pw",
            b"saltsalt",
            &mut output,
            &mut breaks_at(2, &mut reports),
        );
        assert_eq!((outcome, reports), (Err(Stopped::Cancelled), 2));
    }
}
