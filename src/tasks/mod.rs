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
use napi::{check_status, sys, Env, ValueType};
use std::sync::Arc;

pub trait Task {
    const NAME: &'static str;
    type Input: Send + 'static;
    type Output: Send + 'static;

    /// Main thread: validate `data` and turn it into plain Rust values (Buffers are
    /// borrowed in place through the decoder, which keeps them alive).
    fn decode(decoder: &mut Decoder, data: Unknown<'_>) -> Result<Self::Input, Failure>;

    /// Any thread: the work. Long loops check `ctx.cancelled()`. A task whose result is
    /// slow to build in JS may hand it back in pieces through `parts`, so that JS builds
    /// one while the thread makes the next; the output comes after them all.
    fn run(input: Self::Input, ctx: &Ctx, parts: &Parts) -> Result<Self::Output, Failure>;

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

/// Takes the parts a running task sends, to hand them to JS in order, before the
/// task's output (the bridge's inbox).
pub trait PartSink: Send + Sync {
    fn send_part(&self, id: u32, part: Box<dyn Encode>);
}

/// A running task's way to send parts of its result ahead of its output.
pub struct Parts {
    id: u32,
    sink: Arc<dyn PartSink>,
}

impl Parts {
    pub fn new(id: u32, sink: Arc<dyn PartSink>) -> Self {
        Parts { id, sink }
    }

    pub fn send(&self, part: impl Encode + 'static) {
        self.sink.send_part(self.id, Box::new(part));
    }
}

#[cfg(test)]
impl Parts {
    /// For unit tests of tasks that send no parts.
    pub fn unused() -> Parts {
        struct Unused;
        impl PartSink for Unused {
            fn send_part(&self, _: u32, _: Box<dyn Encode>) {
                panic!("this task sends no parts");
            }
        }
        Parts::new(0, Arc::new(Unused))
    }
}

/// One task as the bridge sees it: its name, and how to turn JS data into work.
pub struct Registered {
    pub name: &'static str,
    pub prepare: fn(&mut Decoder, Unknown<'_>, Parts) -> Result<Work<TaskResult>, Failure>,
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
    parts: Parts,
) -> Result<Work<TaskResult>, Failure> {
    let input = T::decode(decoder, data)?;
    Ok(Box::new(move |ctx: &Ctx| {
        T::run(input, ctx, &parts).map(|output| Box::new(Output::<T>(output)) as Box<dyn Encode>)
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

/// ASCII text (a hex or base64 digest, an encoded password hash) as a JS string. V8 takes
/// Latin-1, of which ASCII is a part, as it is: no UTF-8 decoding on the main thread.
pub(crate) fn ascii_to_js(env: &Env, text: &str) -> napi::Result<sys::napi_value> {
    debug_assert!(text.is_ascii());
    let mut value = std::ptr::null_mut();
    // SAFETY: main thread, live env; V8 copies `len` bytes from the pointer.
    check_status!(unsafe {
        sys::napi_create_string_latin1(
            env.raw(),
            text.as_ptr().cast(),
            text.len() as isize,
            &mut value,
        )
    })?;
    Ok(value)
}

/// A few bytes (a digest) as a Buffer of their own: copying them is cheaper than handing V8
/// an external buffer with a finalizer.
pub(crate) fn buffer_copy_to_js(env: &Env, bytes: &[u8]) -> napi::Result<sys::napi_value> {
    let mut value = std::ptr::null_mut();
    // SAFETY: main thread, live env; Node copies `len` bytes into a new Buffer and does not
    // need the data pointer it hands back.
    check_status!(unsafe {
        sys::napi_create_buffer_copy(
            env.raw(),
            bytes.len(),
            bytes.as_ptr().cast(),
            std::ptr::null_mut(),
            &mut value,
        )
    })?;
    Ok(value)
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
