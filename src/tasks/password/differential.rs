//! Our password functions held to the crates they stand in for, on random passwords, salts
//! and small costs: bcrypt against the `bcrypt` crate, scrypt against RustCrypto's `scrypt`,
//! Argon2 against `argon2`. A few hundred cases run with the tests; `npm run fuzz` runs
//! `fuzz_against_the_crates` for as long as it is given (CISTERNA_FUZZ_SECONDS, from the seed
//! CISTERNA_FUZZ_SEED), and a failure names the seed and the case.

use super::argon2::{self, Params, Variant};
use super::{bcrypt_string, scrypt};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

/// xorshift64*: enough to spread cases, and the same cases for the same seed.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number in `range`.
    fn within(&mut self, range: std::ops::RangeInclusive<u64>) -> u64 {
        range.start() + self.next() % (range.end() - range.start() + 1)
    }

    /// `len` random bytes, NULs and bytes past ASCII among them.
    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }

    /// Random bytes, as many as a number in `lengths`.
    fn bytes_within(&mut self, lengths: std::ops::RangeInclusive<u64>) -> Vec<u8> {
        let len = self.within(lengths) as usize;
        self.bytes(len)
    }
}

/// One random case of one algorithm: Err says how ours and the crate's differ.
type Case = fn(&mut Random) -> Result<(), String>;

fn never_stop(_: usize, _: usize) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// One bcrypt case: passwords around the 72-byte cut, costs 4 and 5.
fn bcrypt_case(random: &mut Random) -> Result<(), String> {
    let password = random.bytes_within(0..=90);
    let cost = random.within(4..=5) as u32;
    let salt: [u8; 16] = random.bytes(16).try_into().expect("16 bytes");
    let ours = bcrypt_string(cost, &salt, &password, &mut never_stop).expect("not stopped");
    let crate_s = ::bcrypt::hash_with_salt(&password, cost, salt)
        .map_err(|error| error.to_string())?
        .format_for_version(::bcrypt::Version::TwoB);
    compare("bcrypt", &(cost, &salt, &password), ours, crate_s)
}

/// One scrypt case: every small N, r and p, outputs of any length.
fn scrypt_case(random: &mut Random) -> Result<(), String> {
    let password = random.bytes_within(0..=64);
    let salt = random.bytes_within(0..=32);
    let log_n = random.within(1..=8) as u32;
    let r = random.within(1..=8) as usize;
    let p = random.within(1..=3) as usize;
    let len = random.within(1..=80) as usize;
    let mut ours = vec![0u8; len];
    scrypt::scrypt(&password, &salt, log_n, r, p, &mut ours, &mut never_stop)
        .map_err(|stop| format!("{stop:?}"))?;
    let params = ::scrypt::Params::new(log_n as u8, r as u32, p as u32)
        .map_err(|error| error.to_string())?;
    let mut crate_s = vec![0u8; len];
    ::scrypt::scrypt(&password, &salt, &params, &mut crate_s).map_err(|e| e.to_string())?;
    let case = (&password, &salt, log_n, r, p);
    compare("scrypt", &case, ours, crate_s)
}

/// One Argon2 case: every variant and version, small memory, passes and lanes.
fn argon2_case(random: &mut Random) -> Result<(), String> {
    let variant =
        [Variant::Argon2d, Variant::Argon2i, Variant::Argon2id][random.within(0..=2) as usize];
    let version = if random.within(0..=1) == 0 {
        0x10
    } else {
        0x13
    };
    let lanes = random.within(1..=4) as u32;
    let memory_kib = random.within(u64::from(8 * lanes)..=256) as u32;
    let passes = random.within(1..=3) as u32;
    let password = random.bytes_within(0..=64);
    let salt = random.bytes_within(8..=32);
    let len = random.within(4..=128) as usize;
    let params = Params {
        variant,
        version,
        memory_kib,
        passes,
        lanes,
    };
    let mut ours = vec![0u8; len];
    argon2::argon2(params, &password, &salt, &mut ours, &mut never_stop)
        .map_err(|stop| format!("{stop:?}"))?;
    compare(
        "argon2",
        &(params, &password, &salt),
        ours,
        argon2_crate_s(params, &password, &salt, len),
    )
}

/// The `argon2` crate's hash for the same parameters.
pub(super) fn argon2_crate_s(params: Params, password: &[u8], salt: &[u8], len: usize) -> Vec<u8> {
    let algorithm = match params.variant {
        Variant::Argon2d => ::argon2::Algorithm::Argon2d,
        Variant::Argon2i => ::argon2::Algorithm::Argon2i,
        Variant::Argon2id => ::argon2::Algorithm::Argon2id,
    };
    let version = if params.version == 0x13 {
        ::argon2::Version::V0x13
    } else {
        ::argon2::Version::V0x10
    };
    let costs = ::argon2::Params::new(params.memory_kib, params.passes, params.lanes, Some(len))
        .expect("parameters the crate takes");
    let mut output = vec![0u8; len];
    ::argon2::Argon2::new(algorithm, version, costs)
        .hash_password_into(password, salt, &mut output)
        .expect("parameters the crate takes");
    output
}

fn compare<T: PartialEq + std::fmt::Debug>(
    what: &str,
    case: &dyn std::fmt::Debug,
    ours: T,
    crate_s: T,
) -> Result<(), String> {
    if ours == crate_s {
        Ok(())
    } else {
        Err(format!(
            "{what} differs from its crate for {case:?}: {ours:?} against {crate_s:?}"
        ))
    }
}

/// Runs the cases from `seed` until `until`, or `cases` of them; the first difference is Err.
fn run_cases(seed: u64, cases: usize, until: Option<Instant>) -> Result<usize, String> {
    let mut random = Random(seed | 1);
    let kinds: [Case; 3] = [bcrypt_case, scrypt_case, argon2_case];
    let mut done = 0;
    while done < cases && until.is_none_or(|until| Instant::now() < until) {
        kinds[done % kinds.len()](&mut random).map_err(|error| format!("seed {seed}: {error}"))?;
        done += 1;
    }
    Ok(done)
}

#[test]
fn our_password_functions_equal_their_crates_on_random_cases() {
    assert_eq!(run_cases(7, 150, None), Ok(150));
}

/// `npm run fuzz` runs this for CISTERNA_FUZZ_SECONDS.
#[test]
#[ignore = "run by npm run fuzz, for as long as it is given"]
fn fuzz_against_the_crates() {
    let variable = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or(default)
    };
    let seed = variable("CISTERNA_FUZZ_SEED", 1);
    let until = Instant::now() + Duration::from_secs(variable("CISTERNA_FUZZ_SECONDS", 10));
    match run_cases(seed, usize::MAX, Some(until)) {
        Ok(done) => println!("passwords: {done} cases from seed {seed} equal their crates"),
        Err(error) => panic!("{error}"),
    }
}
