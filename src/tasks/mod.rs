//! The tasks, one file each, and the registry that maps a name to its three steps:
//! `decode` (main thread, JS → Rust), `run` (any thread, pure Rust), `encode` (main
//! thread, Rust → JS). A task knows nothing of threads; the pool knows no task by name.

mod csv;
mod fib;
mod files;
mod hash;
mod password;
mod resize;

use crate::error::Failure;
use crate::js::{Decoder, Owned};
use crate::pool::{Ctx, Work};
use napi::bindgen_prelude::Unknown;
use napi::{sys, Env};

pub trait Task {
    const NAME: &'static str;
    /// The JS builder (in `lib/builders.js`) that makes the result from the parts and the
    /// output, for a task whose result is cheapest to build in JS; None: the output is it.
    const RESULT_BUILDER: Option<&'static str> = None;
    type Input: Send + 'static;
    type Output: Send + 'static;

    /// Main thread: validate `data` and turn it into plain Rust values. Binary data goes
    /// through the decoder, which copies it, or reads it in place when it was handed over
    /// (and keeps it alive until the result is drained).
    fn decode(decoder: &mut Decoder, data: Unknown<'_>) -> Result<Self::Input, Failure>;

    /// For a task whose data may be bare bytes (a Buffer): the input those bytes decode to.
    /// JS then copies a small Buffer into the batch's arena with the tick's other tasks,
    /// instead of a native call of its own to decode it.
    const FROM_BYTES: Option<fn(Owned) -> Self::Input> = None;

    /// Any thread: the work. Long loops check `ctx.cancelled()` and report
    /// `ctx.progress()`. A task whose result is slow to build in JS may send it in pieces
    /// (`ctx.send`), so that JS builds one while the thread makes the next; the output
    /// comes after them all.
    fn run(input: Self::Input, ctx: &Context) -> Result<Self::Output, Failure>;

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

/// The bridge's end of one running task.
pub trait Line: Send {
    /// A part of the result, to reach JS in order and before the output.
    fn send(&self, part: Box<dyn Encode>);
    /// `done` of `total` equal steps of the work are done.
    fn progress(&self, done: usize, total: usize);
}

/// What a running task has of the world: whether to stop (through `Deref`, `cancelled()`),
/// and its line to the main thread.
pub struct Context<'a> {
    cancel: &'a Ctx<'a>,
    line: &'a dyn Line,
}

impl<'a> Context<'a> {
    pub fn new(cancel: &'a Ctx<'a>, line: &'a dyn Line) -> Self {
        Context { cancel, line }
    }

    /// Sends a part of the result ahead, for JS to build while the task goes on.
    pub fn send(&self, part: impl Encode + 'static) {
        self.line.send(Box::new(part));
    }

    /// After `done` of `total` equal steps of a long loop: lets the bridge foresee the end.
    pub fn progress(&self, done: usize, total: usize) {
        self.line.progress(done, total);
    }
}

impl<'a> std::ops::Deref for Context<'a> {
    type Target = Ctx<'a>;
    fn deref(&self) -> &Ctx<'a> {
        self.cancel
    }
}

/// Main thread: a task's data, decoded, and the line it will have, as work for the engine.
pub type Prepare<L> = fn(&mut Decoder, Unknown<'_>, L) -> Result<Work<TaskResult>, Failure>;
/// Main thread: a task's bare bytes, and its line, as work; None for a task without `FROM_BYTES`.
pub type PrepareBytes<L> = fn(Owned, L) -> Option<Work<TaskResult>>;

/// One task as the bridge sees it, for the bridge's kind of line: its name, its JS result
/// builder, and how to turn JS data (or bare bytes, where it reads them) into work.
pub struct Registered<L> {
    pub name: &'static str,
    pub result_builder: Option<&'static str>,
    pub reads_bytes: bool,
    pub prepare: Prepare<L>,
    pub prepare_bytes: PrepareBytes<L>,
}

const fn register<T: Task + 'static, L: Line + 'static>() -> Registered<L> {
    Registered {
        name: T::NAME,
        result_builder: T::RESULT_BUILDER,
        reads_bytes: T::FROM_BYTES.is_some(),
        prepare: prepare::<T, L>,
        prepare_bytes: prepare_bytes::<T, L>,
    }
}

fn prepare<T: Task + 'static, L: Line + 'static>(
    decoder: &mut Decoder,
    data: Unknown<'_>,
    line: L,
) -> Result<Work<TaskResult>, Failure> {
    Ok(work::<T, L>(T::decode(decoder, data)?, line))
}

fn prepare_bytes<T: Task + 'static, L: Line + 'static>(
    bytes: Owned,
    line: L,
) -> Option<Work<TaskResult>> {
    T::FROM_BYTES.map(|from_bytes| work::<T, L>(from_bytes(bytes), line))
}

fn work<T: Task + 'static, L: Line + 'static>(input: T::Input, line: L) -> Work<TaskResult> {
    // The line lives in the work's own box: no allocation of its own per task.
    Box::new(move |ctx: &Ctx| {
        T::run(input, &Context::new(ctx, &line))
            .map(|output| Box::new(Output::<T>(output)) as Box<dyn Encode>)
    })
}

/// Declares `registry`, with the tasks listed once: their count follows from the list.
macro_rules! registry {
    ($($task:ty),* $(,)?) => {
        /// Every task this build knows, in the order of their numbers in `submit`.
        pub const fn registry<L: Line + 'static>() -> [Registered<L>; [$(stringify!($task)),*].len()] {
            [$(register::<$task, L>()),*]
        }
    };
}

registry![
    fib::Fib,
    hash::Hash,
    password::HashPassword,
    password::VerifyPassword,
    csv::ParseCsv,
    resize::Resize,
];

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// A line for unit tests of tasks: parts are refused, progress ignored.
    pub struct NoLine;

    impl Line for NoLine {
        fn send(&self, _: Box<dyn Encode>) {
            panic!("this task sends no parts");
        }
        fn progress(&self, _: usize, _: usize) {}
    }
}
