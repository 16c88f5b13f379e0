//! `hashPassword` and `verifyPassword`: bcrypt, Argon2id and scrypt in the encoded forms the
//! usual npm packages read. Defaults follow OWASP's Password Storage Cheat Sheet.

mod argon2;
mod blowfish_pi;
#[cfg(test)]
mod differential;
mod eksblowfish;
mod scrypt;

use super::{Context, Task};
use crate::error::Failure;
use crate::js::{args, ascii_to_js, describe, to_js, Bytes, Decoder};
use base64::alphabet::BCRYPT;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD_NO_PAD};
use base64::engine::DecodePaddingMode;
use base64::Engine as _;
use napi::bindgen_prelude::Unknown;
use napi::{sys, Env};
use phc::PasswordHash;
use std::ops::ControlFlow;
use subtle::ConstantTimeEq;

/// OWASP: bcrypt with a work factor of 10 or more.
pub const BCRYPT_DEFAULT_COST: u32 = 10;
/// OWASP: Argon2id with 19 MiB of memory, 2 iterations, 1 lane; `cost` sets the iterations.
pub const ARGON2_DEFAULT_ITERATIONS: u32 = 2;
const ARGON2_MEMORY_KIB: u32 = 19 * 1024;
/// OWASP: scrypt with N = 2¹⁷, r = 8, p = 1; `cost` sets log2(N).
pub const SCRYPT_DEFAULT_LOG_N: u32 = 17;
/// 2²⁰ · 128 · r bytes = 1 GiB of memory at r = 8: the most one task may ask for.
const SCRYPT_MAX_LOG_N: u32 = 20;
const ARGON2_MAX_ITERATIONS: u32 = 64;
/// The most memory (KiB) a stored Argon2 hash may ask `verifyPassword` for.
const ARGON2_MAX_MEMORY_KIB: u64 = 1 << 20;
/// The most scrypt memory (128·r·N bytes), times p passes, a stored hash may ask for: what
/// `hashPassword`'s highest cost takes.
const SCRYPT_MAX_WORK: u64 = (128 * 8) << SCRYPT_MAX_LOG_N;

/// bcrypt's own base64 (`./A-Za-z0-9`, no padding). The last character of a salt or hash
/// carries unused bits, which other implementations may set: they are ignored.
const BCRYPT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &BCRYPT,
    GeneralPurposeConfig::new()
        .with_encode_padding(false)
        .with_decode_allow_trailing_bits(true)
        .with_decode_padding_mode(DecodePaddingMode::RequireNone),
);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    Bcrypt,
    Argon2id,
    Scrypt,
}

pub struct HashPasswordInput {
    password: Bytes,
    algorithm: Algorithm,
    cost: u32,
}

pub struct VerifyPasswordInput {
    password: Bytes,
    hash: String,
    algorithm: Algorithm,
}

fn read_password(
    decoder: &mut Decoder,
    options: &napi::bindgen_prelude::Object<'_>,
    task: &str,
) -> Result<Bytes, Failure> {
    match args::field(options, "password")? {
        Some(value) => decoder.required_bytes(&value, "password"),
        None => Err(Failure::invalid_type(format!(
            "{task} needs {{ password, … }}"
        ))),
    }
}

fn options<'env>(
    data: &Unknown<'env>,
    task: &str,
    shape: &str,
) -> Result<napi::bindgen_prelude::Object<'env>, Failure> {
    args::object(data).ok_or_else(|| {
        Failure::invalid_type(format!("{task} needs {shape}, got {}", describe(data)))
    })
}

pub struct HashPassword;

impl Task for HashPassword {
    const NAME: &'static str = "hashPassword";
    type Input = HashPasswordInput;
    type Output = String;

    fn decode(decoder: &mut Decoder, data: Unknown<'_>) -> Result<HashPasswordInput, Failure> {
        let options = options(&data, "hashPassword", "{ password, algorithm, cost }")?;
        let password = read_password(decoder, &options, "hashPassword")?;
        let algorithm = args::choice(
            &options,
            "algorithm",
            "password algorithm",
            &[
                ("bcrypt", Algorithm::Bcrypt),
                ("argon2id", Algorithm::Argon2id),
                ("scrypt", Algorithm::Scrypt),
            ],
            Algorithm::Bcrypt,
        )?;
        let (default, min, max) = match algorithm {
            Algorithm::Bcrypt => (BCRYPT_DEFAULT_COST, 4, 31),
            Algorithm::Argon2id => (ARGON2_DEFAULT_ITERATIONS, 1, ARGON2_MAX_ITERATIONS),
            Algorithm::Scrypt => (SCRYPT_DEFAULT_LOG_N, 1, SCRYPT_MAX_LOG_N),
        };
        let cost = args::integer(&options, "cost", "cost", f64::from(min), f64::from(max))?
            .map_or(default, |cost| cost as u32);
        Ok(HashPasswordInput {
            password,
            algorithm,
            cost,
        })
    }

    fn run(input: HashPasswordInput, ctx: &Context) -> Result<String, Failure> {
        hash_password(
            input.password.as_slice(),
            input.algorithm,
            input.cost,
            &mut following(ctx),
        )
    }

    fn encode(env: &Env, output: String) -> napi::Result<sys::napi_value> {
        ascii_to_js(env, &output)
    }
}

pub struct VerifyPassword;

impl Task for VerifyPassword {
    const NAME: &'static str = "verifyPassword";
    type Input = VerifyPasswordInput;
    type Output = bool;

    fn decode(decoder: &mut Decoder, data: Unknown<'_>) -> Result<VerifyPasswordInput, Failure> {
        let options = options(&data, "verifyPassword", "{ password, hash }")?;
        let password = read_password(decoder, &options, "verifyPassword")?;
        let hash = match args::field(&options, "hash")? {
            Some(value) => args::string(&value, "hash")?,
            None => {
                return Err(Failure::invalid_type(
                    "verifyPassword needs { password, hash }",
                ))
            }
        };
        let algorithm = algorithm_of(&hash)?;
        Ok(VerifyPasswordInput {
            password,
            hash,
            algorithm,
        })
    }

    fn run(input: VerifyPasswordInput, ctx: &Context) -> Result<bool, Failure> {
        verify_password(
            input.password.as_slice(),
            &input.hash,
            input.algorithm,
            &mut following(ctx),
        )
    }

    fn encode(env: &Env, output: bool) -> napi::Result<sys::napi_value> {
        to_js(env, output)
    }
}

/// `len` zeroed values, or None when the memory cannot be had (never an abort). The zeros
/// come from the allocator, whose fresh pages are zero: no page is touched before the work
/// reaches it, so even a gigabyte costs nothing up front and cancellation is seen at once.
fn zeroed<T: bytemuck::Zeroable>(len: usize) -> Option<Vec<T>> {
    bytemuck::allocation::try_zeroed_slice_box(len)
        .ok()
        .map(Vec::from)
}

/// The password functions' `rounds_done`: reports the progress, and breaks once the task
/// is cancelled.
fn following<'a>(ctx: &'a Context) -> impl FnMut(usize, usize) -> ControlFlow<()> + 'a {
    move |done, total| {
        ctx.progress(done, total);
        if ctx.cancelled() {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }
}

fn failed(what: impl std::fmt::Display) -> Failure {
    Failure::new(
        crate::error::Kind::TaskFailed,
        format!("password hashing failed: {what}"),
    )
}

/// bcrypt reads at most 72 bytes of a password; longer ones are cut there, as the `bcrypt`
/// and `bcryptjs` packages do. `rounds_done(done, total)` follows the work (bcrypt's rounds,
/// Argon2's blocks, scrypt's mixing steps) and stops it (ERR_ABORTED) when it breaks.
pub fn hash_password(
    password: &[u8],
    algorithm: Algorithm,
    cost: u32,
    rounds_done: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
) -> Result<String, Failure> {
    match algorithm {
        Algorithm::Bcrypt => {
            let mut salt = [0u8; 16];
            getrandom::fill(&mut salt).map_err(failed)?;
            bcrypt_string(cost, &salt, password, rounds_done).ok_or_else(Failure::cancelled)
        }
        Algorithm::Argon2id => {
            let mut salt = [0u8; 16];
            getrandom::fill(&mut salt).map_err(failed)?;
            let mut hash = [0u8; 32];
            let params = argon2::Params {
                variant: argon2::Variant::Argon2id,
                version: 0x13,
                memory_kib: ARGON2_MEMORY_KIB,
                passes: cost,
                lanes: 1,
            };
            argon2::argon2(params, password, &salt, &mut hash, rounds_done)?;
            Ok(format!(
                "$argon2id$v=19$m={ARGON2_MEMORY_KIB},t={cost},p=1${}${}",
                STANDARD_NO_PAD.encode(salt),
                STANDARD_NO_PAD.encode(hash)
            ))
        }
        Algorithm::Scrypt => {
            let mut salt = [0u8; 16];
            getrandom::fill(&mut salt).map_err(failed)?;
            let mut hash = [0u8; 32];
            scrypt::scrypt(password, &salt, cost, 8, 1, &mut hash, rounds_done)?;
            Ok(format!(
                "$scrypt$ln={cost},r=8,p=1${}${}",
                STANDARD_NO_PAD.encode(salt),
                STANDARD_NO_PAD.encode(hash)
            ))
        }
    }
}

/// `$2b$cost$` with the salt and the hash in bcrypt's base64; None when `rounds_done` broke.
fn bcrypt_string(
    cost: u32,
    salt: &[u8; 16],
    password: &[u8],
    rounds_done: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
) -> Option<String> {
    let hash = eksblowfish::bcrypt(cost, salt, password, rounds_done)?;
    Some(format!(
        "$2b${cost:02}${}{}",
        BCRYPT_BASE64.encode(salt),
        BCRYPT_BASE64.encode(hash)
    ))
}

/// Why a password function did not finish.
#[derive(Debug, PartialEq, Eq)]
pub enum Stopped {
    /// Its `rounds_done` broke: the task was cancelled.
    Cancelled,
    /// Its memory could not be had.
    OutOfMemory,
}

impl From<Stopped> for Failure {
    fn from(stop: Stopped) -> Failure {
        match stop {
            Stopped::Cancelled => Failure::cancelled(),
            Stopped::OutOfMemory => failed("the memory it needs could not be allocated"),
        }
    }
}

/// A PHC string's decimal parameter.
fn decimal(parsed: &PasswordHash, name: &str) -> Result<u32, Failure> {
    parsed
        .params
        .get_decimal(name)
        .ok_or_else(|| failed(format!("the hash has no {name}")))
}

/// Whether `hash`, a PHC string checked by `algorithm_of`, is of `password`: `derive` makes
/// the digest from the parsed string and its salt, and the two are compared in constant time.
fn verify_phc(
    hash: &str,
    derive: impl FnOnce(&PasswordHash, &[u8], &mut [u8]) -> Result<(), Failure>,
) -> Result<bool, Failure> {
    let parsed = PasswordHash::new(hash).map_err(failed)?;
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return Err(failed("the hash has no salt or no digest"));
    };
    let mut actual = vec![0u8; expected.len()];
    derive(&parsed, salt.as_ref(), &mut actual)?;
    Ok(bool::from(actual.ct_eq(expected.as_bytes())))
}

/// `$scrypt$ln=…,r=…,p=…$salt$hash`.
fn verify_scrypt(
    password: &[u8],
    hash: &str,
    steps_done: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
) -> Result<bool, Failure> {
    verify_phc(hash, |parsed, salt, actual| {
        let r = decimal(parsed, "r")? as usize;
        let p = decimal(parsed, "p")? as usize;
        let log_n = decimal(parsed, "ln")?;
        Ok(scrypt::scrypt(
            password, salt, log_n, r, p, actual, steps_done,
        )?)
    })
}

/// `$argon2{id,i,d}$v=…$m=…,t=…,p=…$salt$hash`; a missing version is 0x10, as in the
/// reference implementation.
fn verify_argon2(
    password: &[u8],
    hash: &str,
    blocks_done: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
) -> Result<bool, Failure> {
    verify_phc(hash, |parsed, salt, actual| {
        let variant = match parsed.algorithm.as_str() {
            "argon2d" => argon2::Variant::Argon2d,
            "argon2i" => argon2::Variant::Argon2i,
            _ => argon2::Variant::Argon2id,
        };
        let params = argon2::Params {
            variant,
            version: parsed.version.unwrap_or(0x10),
            memory_kib: decimal(parsed, "m")?,
            passes: decimal(parsed, "t")?,
            lanes: decimal(parsed, "p")?,
        };
        Ok(argon2::argon2(params, password, salt, actual, blocks_done)?)
    })
}

/// Which algorithm made `hash`; a string that is no well-formed hash is ERR_INVALID_ARG,
/// never a `false` by accident.
pub fn algorithm_of(hash: &str) -> Result<Algorithm, Failure> {
    let malformed = || {
        Failure::invalid_type(
            "hash is not a well-formed bcrypt ($2a$/$2b$/$2y$), $argon2id$ or $scrypt$ hash",
        )
    };
    if is_bcrypt(hash) {
        return Ok(Algorithm::Bcrypt);
    }
    let parsed = PasswordHash::new(hash).map_err(|_| malformed())?;
    let param = |name: &str| u64::from(parsed.params.get_decimal(name).unwrap_or(0));
    let too_costly = |what: String| {
        Failure::out_of_range(format!(
            "the hash asks for {what}, more than verifyPassword allows"
        ))
    };
    match parsed.algorithm.as_str() {
        "argon2id" | "argon2i" | "argon2d" => {
            let (memory, passes) = (param("m"), param("t"));
            let most = ARGON2_MAX_MEMORY_KIB.min(u64::from(ARGON2_MEMORY_KIB) * 64 / passes.max(1));
            if memory > most || passes > u64::from(ARGON2_MAX_ITERATIONS) {
                return Err(too_costly(format!("m={memory} KiB over t={passes} passes")));
            }
            Ok(Algorithm::Argon2id)
        }
        "scrypt" => {
            let (log_n, r, p) = (param("ln"), param("r"), param("p"));
            let work = (log_n < 40).then(|| (128 * r * p) << log_n);
            if work.is_none_or(|work| work > SCRYPT_MAX_WORK) {
                return Err(too_costly(format!("ln={log_n}, r={r}, p={p}")));
            }
            Ok(Algorithm::Scrypt)
        }
        _ => Err(malformed()),
    }
}

/// `$2b$10$` + 22 characters of salt + 31 of hash, in bcrypt's base64 alphabet.
fn is_bcrypt(hash: &str) -> bool {
    let bytes = hash.as_bytes();
    bytes.len() == 60
        && matches!(&bytes[..4], b"$2a$" | b"$2b$" | b"$2y$")
        && bytes[4].is_ascii_digit()
        && bytes[5].is_ascii_digit()
        && (4..=31).contains(&((bytes[4] - b'0') * 10 + (bytes[5] - b'0')))
        && bytes[6] == b'$'
        && bytes[7..]
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'.' || b == b'/')
}

/// `hash` was checked by `is_bcrypt`: `$2?$` + two cost digits + `$` + 22 characters of
/// salt + 31 of hash.
fn verify_bcrypt(
    password: &[u8],
    hash: &str,
    rounds_done: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
) -> Result<bool, Failure> {
    let cost: u32 = hash[4..6].parse().map_err(failed)?;
    let decode = |text: &str| BCRYPT_BASE64.decode(text).map_err(failed);
    let salt: [u8; 16] = decode(&hash[7..29])?
        .try_into()
        .map_err(|_| failed("bad salt length"))?;
    let expected = decode(&hash[29..])?;
    let actual =
        eksblowfish::bcrypt(cost, &salt, password, rounds_done).ok_or_else(Failure::cancelled)?;
    Ok(bool::from(actual.as_slice().ct_eq(&expected)))
}

/// Compares in constant time (`subtle` for bcrypt; the PHC crates compare their outputs
/// in constant time too). `rounds_done` as in `hash_password`.
pub fn verify_password(
    password: &[u8],
    hash: &str,
    algorithm: Algorithm,
    rounds_done: &mut dyn FnMut(usize, usize) -> ControlFlow<()>,
) -> Result<bool, Failure> {
    match algorithm {
        Algorithm::Bcrypt => verify_bcrypt(password, hash, rounds_done),
        Algorithm::Argon2id => verify_argon2(password, hash, rounds_done),
        Algorithm::Scrypt => verify_scrypt(password, hash, rounds_done),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_algorithm_round_trips_and_rejects_a_wrong_password() {
        for (algorithm, cost, prefix) in [
            (Algorithm::Bcrypt, 4, "$2b$04$"),
            (Algorithm::Argon2id, 1, "$argon2id$v=19$m=19456,t=1,p=1$"),
            (Algorithm::Scrypt, 10, "$scrypt$ln=10,r=8,p=1$"),
        ] {
            let hash = hash_password(b"correct horse", algorithm, cost, &mut |_, _| {
                ControlFlow::Continue(())
            })
            .unwrap();
            assert!(hash.starts_with(prefix), "{hash}");
            assert_eq!(algorithm_of(&hash), Ok(algorithm));
            assert_eq!(
                verify_password(b"correct horse", &hash, algorithm, &mut |_, _| {
                    ControlFlow::Continue(())
                }),
                Ok(true)
            );
            assert_eq!(
                verify_password(b"correct horsf", &hash, algorithm, &mut |_, _| {
                    ControlFlow::Continue(())
                }),
                Ok(false)
            );
        }
    }

    #[test]
    fn bcrypt_reads_72_bytes_like_the_bcrypt_package() {
        let long = [b'x'; 100];
        let hash = hash_password(&long, Algorithm::Bcrypt, 4, &mut |_, _| {
            ControlFlow::Continue(())
        })
        .unwrap();
        assert_eq!(
            verify_password(&long[..72], &hash, Algorithm::Bcrypt, &mut |_, _| {
                ControlFlow::Continue(())
            }),
            Ok(true)
        );
        assert_eq!(
            verify_password(&long[..71], &hash, Algorithm::Bcrypt, &mut |_, _| {
                ControlFlow::Continue(())
            }),
            Ok(false)
        );
    }

    #[test]
    fn bcrypt_verifies_openwall_s_published_vectors() {
        let vectors = [
            (
                "U*U",
                "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW",
            ),
            (
                "",
                "$2a$05$CCCCCCCCCCCCCCCCCCCCC.7uG0VCzI2bS7j6ymqJi9CdcdxiRTWNy",
            ),
        ];
        for (password, hash) in vectors {
            assert_eq!(algorithm_of(hash), Ok(Algorithm::Bcrypt));
            assert_eq!(
                verify_password(password.as_bytes(), hash, Algorithm::Bcrypt, &mut |_, _| {
                    ControlFlow::Continue(())
                }),
                Ok(true),
                "{password:?}"
            );
            assert_eq!(
                verify_password(b"U*V", hash, Algorithm::Bcrypt, &mut |_, _| {
                    ControlFlow::Continue(())
                }),
                Ok(false)
            );
        }
    }

    #[test]
    fn malformed_hashes_are_refused() {
        for hash in [
            "",
            "plain",
            "$2b$10$short",
            "$2b$99$abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQ",
            "$md5$x$y",
            "$argon2id$garbage",
        ] {
            assert!(algorithm_of(hash).is_err(), "{hash}");
        }
        // A well-formed $2a$ hash (format only).
        assert_eq!(
            algorithm_of("$2a$04$ZtdeA0V8cbX8HM8pVTDkF.8Y7ZS6xCrPe/YDDpMRfgFMKaWVJR7uS"),
            Ok(Algorithm::Bcrypt)
        );
    }

    #[test]
    fn stored_hashes_that_ask_for_too_much_work_are_refused() {
        let salt_and_hash = "c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";
        let argon2 =
            |params: &str| algorithm_of(&format!("$argon2id$v=19${params}${salt_and_hash}"));
        assert_eq!(argon2("m=19456,t=2,p=1"), Ok(Algorithm::Argon2id));
        assert_eq!(argon2("m=65536,t=3,p=4"), Ok(Algorithm::Argon2id));
        for costly in ["m=4194304,t=1,p=1", "m=19456,t=65,p=1", "m=1048576,t=3,p=1"] {
            let error = argon2(costly).unwrap_err();
            assert_eq!(error.kind, crate::error::Kind::OutOfRange, "{costly}");
        }
        let scrypt = |params: &str| algorithm_of(&format!("$scrypt${params}${salt_and_hash}"));
        assert_eq!(scrypt("ln=17,r=8,p=1"), Ok(Algorithm::Scrypt));
        for costly in [
            "ln=21,r=8,p=1",
            "ln=20,r=8,p=2",
            "ln=63,r=8,p=1",
            "ln=17,r=4096,p=1",
        ] {
            assert!(scrypt(costly).is_err(), "{costly}");
        }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use std::ops::ControlFlow;

    /// A `rounds_done` that breaks at its `reports`-th call, and counts the calls.
    pub fn breaks_at(
        reports: usize,
        calls: &mut usize,
    ) -> impl FnMut(usize, usize) -> ControlFlow<()> + '_ {
        move |_, _| {
            *calls += 1;
            if *calls == reports {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            }
        }
    }
}
