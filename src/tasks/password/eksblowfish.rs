//! bcrypt's core, EksBlowfish, written here because the `blowfish` crate's schedule is
//! markedly slower than @node-rs/bcrypt's (bench/README.md has the figures), and the password
//! task is held to the fastest native anchor. The loop is latency-bound: each round waits for
//! the last, so what matters is the length of one round's dependency chain.

use std::ops::ControlFlow;

use super::blowfish_pi::PI_WORDS;

/// "OrpheanBeholderScryDoubt", the text bcrypt encrypts 64 times.
const MAGIC: [u32; 6] = [
    0x4f72_7068,
    0x6561_6e42,
    0x6568_6f6c,
    0x6465_7253,
    0x6372_7944,
    0x6f75_6274,
];

struct State {
    p: [u32; 18],
    /// The four S-boxes, one after the other.
    s: [u32; 1024],
}

/// `x`, hidden from the optimiser's reassociation. `l ^ P[i]` is ready long before F(r);
/// left alone, LLVM folds the P-array load into F's result and puts two XORs on the
/// round's critical path instead of one.
#[inline(always)]
fn computed_early(mut x: u32) -> u32 {
    // SAFETY: an asm block holding only a comment that names one register: no instruction,
    // no memory, no stack, no flags; it only makes the value opaque. Elsewhere the value
    // passes as it is (correct, a little slower).
    #[cfg(target_arch = "x86_64")]
    unsafe {
        core::arch::asm!("/* {0:e} */", inout(reg) x, options(pure, nomem, nostack, preserves_flags))
    };
    // SAFETY: as above: a comment naming one register, no instruction.
    #[cfg(target_arch = "aarch64")]
    unsafe {
        core::arch::asm!("/* {0:w} */", inout(reg) x, options(pure, nomem, nostack, preserves_flags))
    };
    x
}

/// `(x >> 14) & 0x3fc`, the byte offset of `x`'s byte 2 in an S-box, and a copy of `x`.
/// That byte's path into F (shift, mask, load, then add, XOR, add, XOR) is the round's
/// longest. Worked out in place on `x`, with F's other bytes and the next round read from
/// the copy, it never waits on a register move, where LLVM alone puts one.
#[inline(always)]
fn byte_2_offset_and_copy(x: u32) -> (usize, u32) {
    #[cfg(target_arch = "x86_64")]
    {
        let (offset, copy): (usize, u32);
        // SAFETY: register arithmetic only: no memory, no stack. Writing the 32-bit
        // register clears its upper half, so `offset` is the masked value.
        unsafe {
            core::arch::asm!(
                "mov {copy:e}, {x:e}",
                "shr {x:e}, 14",
                "and {x:e}, 0x3fc",
                x = inout(reg) x as usize => offset,
                copy = out(reg) copy,
                options(pure, nomem, nostack),
            );
        }
        (offset, copy)
    }
    #[cfg(not(target_arch = "x86_64"))]
    (((x >> 14) & 0x3fc) as usize, x)
}

impl State {
    fn initial() -> Self {
        let mut state = State {
            p: [0; 18],
            s: [0; 1024],
        };
        state.p.copy_from_slice(&PI_WORDS[..18]);
        state.s.copy_from_slice(&PI_WORDS[18..]);
        state
    }

    /// Blowfish's F of `x`, and `x` again, from the copy F read its bytes from (see
    /// `byte_2_offset_and_copy`): the caller keeps using that copy.
    #[inline(always)]
    fn f(&self, x: u32) -> (u32, u32) {
        let (b_offset, x) = byte_2_offset_and_copy(x);
        let s = &self.s;
        // SAFETY: `b_offset` is a multiple of 4 and at most 1020: one aligned word of the
        // second S-box, `s[256..512]`.
        let b = unsafe { s.as_ptr().add(256).byte_add(b_offset).read() };
        let a = s[(x >> 24) as usize];
        let c = s[512 + ((x >> 8) & 0xff) as usize];
        let d = s[768 + (x & 0xff) as usize];
        ((a.wrapping_add(b) ^ c).wrapping_add(d), x)
    }

    #[inline(always)]
    fn encrypt(&self, mut l: u32, mut r: u32) -> (u32, u32) {
        let p = &self.p;
        l ^= p[0];
        for i in (1..17).step_by(2) {
            let (f_l, l_copy) = self.f(l);
            r = computed_early(r ^ p[i]) ^ f_l;
            let (f_r, r_copy) = self.f(r);
            l = computed_early(l_copy ^ p[i + 1]) ^ f_r;
            r = r_copy;
        }
        (r ^ p[17], l)
    }

    /// XORs `key` into P, then replaces P and the S-boxes by chained encryption; when
    /// `SALTED`, each block is XORed with the next two salt words first.
    #[inline(always)]
    fn expand<const SALTED: bool>(&mut self, key: &[u32; 18], salt: &[u32; 4]) {
        for (p, k) in self.p.iter_mut().zip(key) {
            *p ^= k;
        }
        let (mut l, mut r) = (0u32, 0u32);
        let mut next_salt = 0;
        let mut next_block = |state: &Self| {
            if SALTED {
                l ^= salt[next_salt];
                r ^= salt[next_salt + 1];
                next_salt ^= 2;
            }
            (l, r) = state.encrypt(l, r);
            (l, r)
        };
        for i in (0..18).step_by(2) {
            (self.p[i], self.p[i + 1]) = next_block(self);
        }
        for i in (0..1024).step_by(2) {
            (self.s[i], self.s[i + 1]) = next_block(self);
        }
    }
}

/// 18 big-endian words cycling over `bytes`.
fn cycled_words(bytes: &[u8]) -> [u32; 18] {
    let mut cycle = bytes.iter().cycle();
    std::array::from_fn(|_| {
        (0..4).fold(0u32, |word, _| {
            (word << 8) | u32::from(*cycle.next().expect("never empty"))
        })
    })
}

/// Expensive rounds between two calls of `rounds_done` (about 0.4 ms at any cost): often
/// enough to foresee the end and to stop soon when cancelled, rare enough to cost nothing.
const ROUNDS_PER_REPORT: usize = 8;

/// The 23 bytes bcrypt encodes: `password` with its NUL terminator, cut at 72 bytes as the
/// `bcrypt` and `bcryptjs` packages do, expanded 2^cost times with the 16-byte salt.
/// `rounds_done(done, total)` follows the expensive rounds; when it breaks, the hash stops
/// and is None.
pub fn bcrypt(
    cost: u32,
    salt: &[u8; 16],
    password: &[u8],
    rounds_done: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
) -> Option<[u8; 23]> {
    let mut key = Vec::with_capacity(password.len() + 1);
    key.extend_from_slice(password);
    key.push(0);
    key.truncate(72);
    let key = cycled_words(&key);
    let salt_words = cycled_words(salt);
    let salt_quad = [salt_words[0], salt_words[1], salt_words[2], salt_words[3]];

    let mut state = State::initial();
    state.expand::<true>(&key, &salt_quad);
    let rounds = 1usize << cost;
    for round in 1..=rounds {
        state.expand::<false>(&key, &[0; 4]);
        state.expand::<false>(&salt_words, &[0; 4]);
        if round % ROUNDS_PER_REPORT == 0 && rounds_done(round, rounds).is_break() {
            return None;
        }
    }
    let mut text = MAGIC;
    for pair in text.chunks_exact_mut(2) {
        for _ in 0..64 {
            (pair[0], pair[1]) = state.encrypt(pair[0], pair[1]);
        }
    }
    let mut out = [0u8; 24];
    for (bytes, word) in out.chunks_exact_mut(4).zip(text) {
        bytes.copy_from_slice(&word.to_be_bytes());
    }
    Some(out[..23].try_into().expect("23 of 24 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tasks::password::testing::breaks_at;

    /// π's fraction to `words` 32-bit words, by Machin's formula in fixed point.
    fn pi_fraction_words(words: usize) -> Vec<u32> {
        use num_bigint::BigUint;
        let bits = words * 32 + 64; // 64 guard bits absorb the truncation error
        let one = BigUint::from(1u32) << bits;
        // atan(1/x) = Σ (−1)^k / ((2k+1)·x^(2k+1)), in units of 2^-bits.
        let atan_inverse = |x: u32| {
            let (mut positive, mut negative) = (BigUint::ZERO, BigUint::ZERO);
            let mut power = &one / x;
            let mut k = 0u32;
            while power != BigUint::ZERO {
                let term = &power / (2 * k + 1);
                if k.is_multiple_of(2) {
                    positive += term;
                } else {
                    negative += term;
                }
                power /= x * x;
                k += 1;
            }
            positive - negative
        };
        let pi = atan_inverse(5) * 16u32 - atan_inverse(239) * 4u32;
        let fraction = (pi - (BigUint::from(3u32) << bits)) >> 64u32;
        let mut digits = fraction.to_u32_digits();
        digits.resize(words, 0);
        digits.reverse();
        digits
    }

    #[test]
    fn pi_words_are_pi() {
        assert_eq!(PI_WORDS[..], pi_fraction_words(PI_WORDS.len())[..]);
        // Blowfish's published first and last words.
        assert_eq!(PI_WORDS[0], 0x243f_6a88, "P[0]");
        assert_eq!(PI_WORDS[17], 0x8979_fb1b, "P[17]");
        assert_eq!(PI_WORDS[18], 0xd131_0ba6, "S[0][0]");
        assert_eq!(PI_WORDS[18 + 1023], 0x3ac3_72e6, "S[3][255]");
    }

    #[test]
    fn progress_is_reported_every_few_rounds_up_to_the_last() {
        let mut reports = Vec::new();
        let hash = bcrypt(5, &[7; 16], b"pw", &mut |done, total| {
            reports.push((done, total));
            ControlFlow::Continue(())
        });
        assert!(hash.is_some());
        assert_eq!(reports, [(8, 32), (16, 32), (24, 32), (32, 32)]);
    }

    #[test]
    fn a_break_from_the_progress_stops_the_rounds() {
        let mut reports = 0;
        let hash = bcrypt(31, &[7; 16], b"pw", &mut breaks_at(3, &mut reports));
        assert_eq!((hash, reports), (None, 3));
    }

    #[test]
    fn blowfish_encrypts_the_published_test_vector() {
        // Schneier's vector: key 00…00, plaintext 00…00 → 4EF997456198DD78.
        let mut state = State::initial();
        state.expand::<false>(&cycled_words(&[0; 8]), &[0; 4]);
        assert_eq!(state.encrypt(0, 0), (0x4ef9_9745, 0x6198_dd78));
    }
}
