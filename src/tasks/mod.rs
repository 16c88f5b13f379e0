//! The tasks, one file each, and the registry that maps a name to its three steps:
//! `decode` (main thread, JS → Rust), `run` (any thread, pure Rust), `encode` (main
//! thread, Rust → JS). A task knows nothing of threads; the pool knows no task by name.

mod csv;
mod fib;
mod hash;
mod password;
mod resize;

use crate::error::Failure;
use crate::js::Decoder;
use crate::pool::{Ctx, Work};
use napi::bindgen_prelude::Unknown;
use napi::{sys, Env};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub trait Task {
    const NAME: &'static str;
    /// The JS builder (in `lib/builders.js`) that makes the result from the parts and the
    /// output, for a task whose result is cheapest to build in JS; None: the output is it.
    const RESULT_BUILDER: Option<&'static str> = None;
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
    /// A result is due within about `RESULT_LEAD`: wake the main thread now if nothing else
    /// will.
    fn result_soon(&self);
}

/// How long before a long task's end the main thread is woken. On a virtual machine a
/// thread idle for tens of milliseconds sleeps deeply and takes about 100 µs to wake; one
/// idle for under a millisecond wakes in about 5 µs. Woken this early, the main thread is
/// only lightly asleep again when the result comes.
pub const RESULT_LEAD: Duration = Duration::from_millis(1);

/// A running task's line to the main thread: parts of its result ahead of its output, and
/// word that its output is near.
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

/// Foresees the end of a long loop from its progress, and tells the main thread once it
/// is within `RESULT_LEAD`.
pub struct EndForecast<'a> {
    parts: &'a Parts,
    started: Instant,
    told: bool,
}

impl<'a> EndForecast<'a> {
    pub fn new(parts: &'a Parts) -> Self {
        EndForecast {
            parts,
            started: Instant::now(),
            told: false,
        }
    }

    /// After `done` of `total` equal steps of work.
    pub fn progress(&mut self, done: usize, total: usize) {
        let started = self.started;
        self.progress_after(|| started.elapsed(), done, total);
    }

    /// The clock is read only when the forecast can matter: a one-chunk hash, the common
    /// small task, reads it no more than at its start.
    fn progress_after(&mut self, elapsed: impl FnOnce() -> Duration, done: usize, total: usize) {
        // At the end the result itself wakes the main thread.
        if self.told || done == 0 || done >= total {
            return;
        }
        let left = elapsed().mul_f64((total - done) as f64 / done as f64);
        if left <= RESULT_LEAD {
            self.told = true;
            self.parts.sink.result_soon();
        }
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
            fn result_soon(&self) {}
        }
        Parts::new(0, Arc::new(Unused))
    }
}

/// One task as the bridge sees it: its name, its JS result builder, and how to turn JS
/// data into work.
pub struct Registered {
    pub name: &'static str,
    pub result_builder: Option<&'static str>,
    pub prepare: fn(&mut Decoder, Unknown<'_>, Parts) -> Result<Work<TaskResult>, Failure>,
}

const fn register<T: Task + 'static>() -> Registered {
    Registered {
        name: T::NAME,
        result_builder: T::RESULT_BUILDER,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Default)]
    struct CountsWakes(AtomicUsize);
    impl PartSink for CountsWakes {
        fn send_part(&self, _: u32, _: Box<dyn Encode>) {}
        fn result_soon(&self) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn the_main_thread_is_told_once_when_the_end_is_within_the_lead() {
        let sink = Arc::new(CountsWakes::default());
        let parts = Parts::new(1, Arc::clone(&sink) as Arc<dyn PartSink>);
        let mut forecast = EndForecast::new(&parts);
        let ms = Duration::from_millis;
        // 10 of 100 steps in 10 ms: 90 ms left.
        forecast.progress_after(|| ms(10), 10, 100);
        assert_eq!(sink.0.load(Ordering::Relaxed), 0);
        // 99 of 100 in 99 ms: 1 ms left.
        forecast.progress_after(|| ms(99), 99, 100);
        assert_eq!(sink.0.load(Ordering::Relaxed), 1);
        forecast.progress_after(|| ms(99) + RESULT_LEAD / 2, 100, 100);
        assert_eq!(sink.0.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn a_finished_or_unstarted_loop_tells_nothing() {
        let sink = Arc::new(CountsWakes::default());
        let parts = Parts::new(1, Arc::clone(&sink) as Arc<dyn PartSink>);
        let mut forecast = EndForecast::new(&parts);
        forecast.progress_after(|| Duration::ZERO, 0, 100);
        forecast.progress_after(|| Duration::from_micros(1), 100, 100);
        assert_eq!(sink.0.load(Ordering::Relaxed), 0);
    }
}
