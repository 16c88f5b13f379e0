//! Starting a worker thread, and running one job on it: the parts of a thread's life that
//! are not the queue's protocol (`serve`, in `mod.rs`).

use super::sync;
use super::{serve, Ctx, Job, Outcome, Shared, Sink};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;

/// Starts the threads of these numbers, already counted in `State::live`.
pub(super) fn spawn_workers<O: Send + 'static, S: Sink<O>>(
    shared: &Arc<Shared<O, S>>,
    numbers: Vec<u32>,
) {
    for number in numbers {
        let worker = Arc::clone(shared);
        match sync::Builder::new()
            .name("cisterna-worker".into())
            .spawn(move || serve(worker, number))
        {
            Ok(handle) => {
                let mut handles = shared.handles.lock();
                handles.retain(|h| !sync::finished(h));
                handles.push(handle);
            }
            Err(error) => {
                let report_exit = shared.state.lock().thread_gone(number);
                shared
                    .sink
                    .fault(format!("could not start a native thread: {error}"));
                if report_exit {
                    shared.sink.threads_exited();
                }
            }
        }
    }
}

/// Raises the calling thread's nice value by `increment`. On Linux the nice value belongs
/// to each thread, so this leaves Node's main thread as it was. Failure (a limit of the
/// system) leaves the thread at its priority, which is only slower to yield, so it is
/// ignored.
pub(super) fn lower_priority(increment: u8) {
    #[cfg(all(target_os = "linux", not(loom)))]
    if increment > 0 {
        // SAFETY: nice() only changes the calling thread's scheduling priority.
        unsafe {
            libc::nice(i32::from(increment));
        }
    }
    #[cfg(not(all(target_os = "linux", not(loom))))]
    let _ = increment;
}

/// Runs one job on thread `number`, its panic caught: the thread and the pool go on. None
/// when the job relayed its end (`Ctx::relay`) and did not panic.
pub(super) fn run<O: Send + 'static, S: Sink<O>>(
    shared: &Arc<Shared<O, S>>,
    number: u32,
    job: Job<O>,
) -> Option<(u32, Outcome<O>)> {
    let Job {
        id, token, work, ..
    } = job;
    let ctx = Ctx::new(token.as_deref(), &shared.destroyed, Some(shared)).on_thread(number);
    let outcome = match catch_unwind(AssertUnwindSafe(|| work(&ctx))) {
        Ok(_) if ctx.relayed() => return None,
        Ok(output) => Outcome::Finished(output),
        Err(payload) => Outcome::Panicked(panic_message(payload.as_ref())),
    };
    Some((id, outcome))
}

/// What a panic said, for the error that reports it.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a task panicked".to_string())
}
