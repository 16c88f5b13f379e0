//! `fib`: F(n), exact. Fast doubling on big integers by default; the textbook exponential
//! recursion on request, as the CPU load that worker-pool articles demonstrate with.

use super::{Context, Task};
use crate::error::Failure;
use crate::js::{args, describe, to_js, Decoder};
use crate::pool::Ctx;
use napi::bindgen_prelude::{BigInt, Unknown};
use napi::{sys, Env, ValueType};
use num_bigint::BigUint;

/// The largest n accepted: F(10⁷) has 6.9 million bits and takes well under a second.
pub const MAX_N: u64 = 10_000_000;
/// F(93) is the last Fibonacci number that fits in 64 bits.
pub const MAX_RECURSIVE_N: u64 = 93;
/// The largest F(n) that is a safe integer in JS is F(78).
const MAX_SAFE_INTEGER: u64 = (1 << 53) - 1;
/// The recursion checks for cancellation at calls with n at or above this: each check
/// then covers about 75 000 calls, well under a millisecond.
const CHECK_CANCEL_FROM_N: u64 = 24;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    FastDoubling,
    Recursive,
}

#[derive(Debug, PartialEq, Eq)]
pub struct FibInput {
    n: u64,
    algorithm: Algorithm,
    /// The caller gave n as a BigInt, so the result is one too.
    as_bigint: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum FibOutput {
    Small { value: u64, as_bigint: bool },
    Big(BigUint),
}

pub struct Fib;

impl Task for Fib {
    const NAME: &'static str = "fib";
    type Input = FibInput;
    type Output = FibOutput;

    fn decode(_decoder: &mut Decoder, data: Unknown<'_>) -> Result<FibInput, Failure> {
        if let Some(options) = args::object(&data) {
            let n = args::field(&options, "n")?
                .ok_or_else(|| Failure::invalid_type("fib options need n"))?;
            let (n, as_bigint) = read_n(&n)?;
            let algorithm = args::choice(
                &options,
                "algorithm",
                "fib algorithm",
                &[
                    ("fast-doubling", Algorithm::FastDoubling),
                    ("recursive", Algorithm::Recursive),
                ],
                Algorithm::FastDoubling,
            )?;
            return checked(FibInput {
                n,
                algorithm,
                as_bigint,
            });
        }
        let (n, as_bigint) = read_n(&data)?;
        checked(FibInput {
            n,
            algorithm: Algorithm::FastDoubling,
            as_bigint,
        })
    }

    fn run(input: FibInput, ctx: &Context) -> Result<FibOutput, Failure> {
        let as_bigint = input.as_bigint;
        match input.algorithm {
            Algorithm::Recursive => recursive(input.n, ctx)
                .map(|value| FibOutput::Small { value, as_bigint })
                .ok_or_else(Failure::cancelled),
            Algorithm::FastDoubling if input.n <= MAX_RECURSIVE_N => Ok(FibOutput::Small {
                value: iterative(input.n),
                as_bigint,
            }),
            Algorithm::FastDoubling => fast_doubling(input.n, ctx)
                .map(FibOutput::Big)
                .ok_or_else(Failure::cancelled),
        }
    }

    fn encode(env: &Env, output: FibOutput) -> napi::Result<sys::napi_value> {
        match output {
            FibOutput::Small {
                value,
                as_bigint: false,
            } if value <= MAX_SAFE_INTEGER => to_js(env, value as f64),
            FibOutput::Small { value, .. } => to_js(env, BigInt::from(value)),
            FibOutput::Big(value) => to_js(
                env,
                BigInt {
                    sign_bit: false,
                    words: value.to_u64_digits(),
                },
            ),
        }
    }
}

/// n as a number or a BigInt, and whether it was a BigInt.
fn read_n(value: &Unknown<'_>) -> Result<(u64, bool), Failure> {
    match args::type_of(value) {
        ValueType::Number => {
            let n = args::number(value).unwrap_or(f64::NAN);
            if !n.is_finite() || n.fract() != 0.0 {
                return Err(Failure::out_of_range(format!(
                    "fib needs an integer n, got {n}"
                )));
            }
            if n < 0.0 {
                return Err(Failure::out_of_range(format!("fib needs n ≥ 0, got {n}")));
            }
            // Anything past u64 is past MAX_N too; `checked` says so.
            Ok((n.min(u64::MAX as f64) as u64, false))
        }
        ValueType::BigInt => {
            // SAFETY: the value was just checked to be a BigInt.
            let big = unsafe { value.cast::<BigInt>() }?;
            let (negative, n, lossless) = big.get_u64();
            if negative && n != 0 {
                return Err(Failure::out_of_range(
                    "fib needs n ≥ 0, got a negative BigInt",
                ));
            }
            Ok((if lossless { n } else { u64::MAX }, true))
        }
        _ => Err(Failure::invalid_type(format!(
            "fib needs n as a number or BigInt (or {{ n, algorithm }}), got {}",
            describe(value)
        ))),
    }
}

fn checked(input: FibInput) -> Result<FibInput, Failure> {
    let max = match input.algorithm {
        Algorithm::FastDoubling => MAX_N,
        Algorithm::Recursive => MAX_RECURSIVE_N,
    };
    if input.n > max {
        let n = if input.n == u64::MAX {
            "a larger one".to_string()
        } else {
            input.n.to_string()
        };
        return Err(Failure::out_of_range(format!(
            "fib's {} algorithm takes n ≤ {max}, got {n}",
            match input.algorithm {
                Algorithm::FastDoubling => "fast-doubling",
                Algorithm::Recursive => "recursive",
            }
        )));
    }
    Ok(input)
}

/// F(n) for n ≤ 93, by addition.
fn iterative(n: u64) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        // At n = 93 the last `b`, F(94), passes u64 and is never read: wrap, don't trap.
        (a, b) = (b, a.wrapping_add(b));
    }
    a
}

/// The textbook recursion, None when cancelled. Below the check threshold it is the
/// plain two-call recursion with nothing else in the way.
fn recursive(n: u64, ctx: &Ctx) -> Option<u64> {
    fn plain(n: u64) -> u64 {
        if n < 2 {
            n
        } else {
            plain(n - 1) + plain(n - 2)
        }
    }
    if n < CHECK_CANCEL_FROM_N {
        return Some(plain(n));
    }
    if ctx.cancelled() {
        return None;
    }
    Some(recursive(n - 1, ctx)? + recursive(n - 2, ctx)?)
}

/// F(n) by fast doubling, from the top bit of n down, None when cancelled:
/// F(2k) = F(k)·(2F(k+1) − F(k)) and F(2k+1) = F(k)² + F(k+1)².
fn fast_doubling(n: u64, ctx: &Ctx) -> Option<BigUint> {
    let (mut f_k, mut f_k1) = (BigUint::ZERO, BigUint::from(1u32));
    for bit in (0..u64::BITS - n.leading_zeros()).rev() {
        if ctx.cancelled() {
            return None;
        }
        let f_2k = &f_k * ((&f_k1 << 1u32) - &f_k);
        let f_2k1 = &f_k * &f_k + &f_k1 * &f_k1;
        if (n >> bit) & 1 == 0 {
            (f_k, f_k1) = (f_2k, f_2k1);
        } else {
            f_k1 = &f_2k + &f_2k1;
            f_k = f_2k1;
        }
    }
    Some(f_k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pool::testing::{already_cancelled, never_cancelled};
    use crate::tasks::testing::NoLine;

    fn input(n: u64, algorithm: Algorithm) -> FibInput {
        FibInput {
            n,
            algorithm,
            as_bigint: false,
        }
    }

    #[test]
    fn small_values_agree_across_algorithms() {
        let ctx = never_cancelled();
        let known = [0u64, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55];
        for (n, &expected) in known.iter().enumerate() {
            assert_eq!(iterative(n as u64), expected);
            assert_eq!(recursive(n as u64, &ctx), Some(expected));
            assert_eq!(fast_doubling(n as u64, &ctx), Some(BigUint::from(expected)));
        }
        for n in [30, 64, 78, 92, 93] {
            assert_eq!(
                fast_doubling(n, &ctx),
                Some(BigUint::from(iterative(n))),
                "F({n})"
            );
        }
        assert_eq!(recursive(30, &ctx), Some(832_040));
        assert_eq!(iterative(93), 12_200_160_415_121_876_738);
    }

    #[test]
    fn big_values_satisfy_the_identities() {
        let ctx = never_cancelled();
        // F(2n) = F(n) · L(n) with L(n) = F(n−1) + F(n+1); checked at an odd and an even n.
        for n in [1000u64, 4097] {
            let f = |k| fast_doubling(k, &ctx).unwrap();
            assert_eq!(f(2 * n), f(n) * (f(n - 1) + f(n + 1)));
        }
        // F(100) from the literature.
        let f100 = fast_doubling(100, &ctx).unwrap();
        assert_eq!(f100.to_string(), "354224848179261915075");
    }

    #[test]
    fn the_result_is_a_number_while_safe_then_a_bigint() {
        let ctx = never_cancelled();
        let run = |n| {
            Fib::run(
                input(n, Algorithm::FastDoubling),
                &Context::new(&ctx, &NoLine),
            )
            .unwrap()
        };
        assert_eq!(
            run(78),
            FibOutput::Small {
                value: 8_944_394_323_791_464,
                as_bigint: false
            }
        );
        assert!(matches!(run(94), FibOutput::Big(_)));
    }

    #[test]
    fn cancellation_stops_both_algorithms() {
        let ctx = already_cancelled();
        assert_eq!(
            Fib::run(
                input(90, Algorithm::Recursive),
                &Context::new(&ctx, &NoLine)
            ),
            Err(Failure::cancelled())
        );
        assert_eq!(
            Fib::run(
                input(1_000_000, Algorithm::FastDoubling),
                &Context::new(&ctx, &NoLine)
            ),
            Err(Failure::cancelled())
        );
    }

    #[test]
    fn limits_are_enforced() {
        assert!(checked(input(MAX_N, Algorithm::FastDoubling)).is_ok());
        assert!(checked(input(MAX_N + 1, Algorithm::FastDoubling)).is_err());
        assert!(checked(input(93, Algorithm::Recursive)).is_ok());
        let error = checked(input(94, Algorithm::Recursive)).unwrap_err();
        assert_eq!(error.kind, crate::error::Kind::OutOfRange);
    }
}
