//! The tasks, one file each, and the registry that maps a name to its three steps:
//! `decode` (main thread, JS → Rust), `run` (any thread, pure Rust), `encode` (main
//! thread, Rust → JS). A task knows nothing of threads; the pool knows no task by name.

mod args;
mod bytes;
mod csv;
mod fib;
mod hash;
mod password;
mod resize;

pub(crate) use bytes::release as release_kept;
pub use bytes::{Bytes, Decoder};

use crate::error::Failure;
use crate::pool::{Ctx, Work};
use napi::bindgen_prelude::{ToNapiValue, Unknown};
use napi::{sys, Env, ValueType};

pub trait Task {
    const NAME: &'static str;
    type Input: Send + 'static;
    type Output: Send + 'static;

    /// Main thread: validate `data` and turn it into plain Rust values (Buffers are
    /// borrowed in place through the decoder, which keeps them alive).
    fn decode(decoder: &mut Decoder, data: Unknown<'_>) -> Result<Self::Input, Failure>;

    /// Any thread: the work. Long loops check `ctx.cancelled()`.
    fn run(input: Self::Input, ctx: &Ctx) -> Result<Self::Output, Failure>;

    /// Main thread: the output as a JS value.
    fn encode(env: &Env, output: Self::Output) -> napi::Result<sys::napi_value>;
}

/// A finished task's output, waiting for the main thread to turn it into JS.
pub trait Encode: Send {
    fn encode(self: Box<Self>, env: &Env) -> napi::Result<sys::napi_value>;
}

struct Output<T: Task>(T::Output);

impl<T: Task> Encode for Output<T> {
    fn encode(self: Box<Self>, env: &Env) -> napi::Result<sys::napi_value> {
        T::encode(env, self.0)
    }
}

/// What a job of any task yields on its thread.
pub type TaskResult = Result<Box<dyn Encode>, Failure>;

/// One task as the bridge sees it: its name, and how to turn JS data into work.
pub struct Registered {
    pub name: &'static str,
    pub prepare: fn(&mut Decoder, Unknown<'_>) -> Result<Work<TaskResult>, Failure>,
}

const fn register<T: Task + 'static>() -> Registered {
    Registered {
        name: T::NAME,
        prepare: prepare::<T>,
    }
}

fn prepare<T: Task + 'static>(
    decoder: &mut Decoder,
    data: Unknown<'_>,
) -> Result<Work<TaskResult>, Failure> {
    let input = T::decode(decoder, data)?;
    Ok(Box::new(move |ctx: &Ctx| {
        T::run(input, ctx).map(|output| Box::new(Output::<T>(output)) as Box<dyn Encode>)
    }))
}

/// Every task this build knows, in the order of their numbers in `submit`.
pub static REGISTRY: &[Registered] = &[
    register::<fib::Fib>(),
    register::<hash::Hash>(),
    register::<password::HashPassword>(),
    register::<password::VerifyPassword>(),
    register::<csv::ParseCsv>(),
    register::<resize::Resize>(),
];

/// A Rust value as a JS value of the current environment.
pub(crate) fn to_js<T: ToNapiValue>(env: &Env, value: T) -> napi::Result<sys::napi_value> {
    // SAFETY: `env` is the live environment of the thread we are called on (decode and
    // encode run on the main thread only), which is all `to_napi_value` requires.
    unsafe { T::to_napi_value(env.raw(), value) }
}

/// The JS type of a value, in the words of an error message.
pub(crate) fn describe(value: &Unknown<'_>) -> &'static str {
    match value.get_type() {
        Ok(ValueType::Undefined) => "undefined",
        Ok(ValueType::Null) => "null",
        Ok(ValueType::Boolean) => "a boolean",
        Ok(ValueType::Number) => "a number",
        Ok(ValueType::String) => "a string",
        Ok(ValueType::Symbol) => "a symbol",
        Ok(ValueType::Object) => "an object",
        Ok(ValueType::Function) => "a function",
        Ok(ValueType::External) => "an external",
        Ok(ValueType::BigInt) => "a bigint",
        _ => "an unknown value",
    }
}
