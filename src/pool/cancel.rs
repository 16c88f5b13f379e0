//! Cancellation: what a running task can see of abort, timeout and `destroy()`.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};

const QUEUED: u8 = 0;
const RUNNING: u8 = 1;
const CANCELLED: u8 = 2;

/// The life of one cancellable job: queued → running, or → cancelled from either.
/// Only jobs that can be aborted or time out carry one; the rest cost nothing.
#[derive(Debug, Default)]
pub struct CancelToken {
    state: AtomicU8,
}

/// Where a job was when `cancel` reached it.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub enum CancelledWhile {
    /// Still in the queue: it will never run, and its input will never be read.
    Queued,
    /// On a thread: it sees `Ctx::cancelled()` and stops at its next check.
    Running,
    /// Cancelled before, or already finished: nothing changes.
    Settled,
}

impl CancelToken {
    pub fn new() -> Self {
        Self::default()
    }

    /// Called by the worker that pops the job: false if it was cancelled while queued.
    pub(crate) fn start(&self) -> bool {
        self.state
            .compare_exchange(QUEUED, RUNNING, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    pub(crate) fn cancel(&self) -> CancelledWhile {
        match self.state.swap(CANCELLED, Ordering::AcqRel) {
            QUEUED => CancelledWhile::Queued,
            RUNNING => CancelledWhile::Running,
            _ => CancelledWhile::Settled,
        }
    }

    pub fn is_cancelled(&self) -> bool {
        self.state.load(Ordering::Relaxed) == CANCELLED
    }
}

/// What a task is handed while it runs. Long loops call `cancelled()` and stop early.
pub struct Ctx<'a> {
    token: Option<&'a CancelToken>,
    pool_destroyed: &'a AtomicBool,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(token: Option<&'a CancelToken>, pool_destroyed: &'a AtomicBool) -> Self {
        Self {
            token,
            pool_destroyed,
        }
    }

    /// True once the task was aborted, timed out, or its pool destroyed. A relaxed load:
    /// cheap enough for inner loops, and a late look only delays the stop by one check.
    #[inline]
    pub fn cancelled(&self) -> bool {
        self.token.is_some_and(CancelToken::is_cancelled)
            || self.pool_destroyed.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    static NEVER: AtomicBool = AtomicBool::new(false);
    static ALWAYS: AtomicBool = AtomicBool::new(true);

    /// A context for unit tests of a task's pure core.
    pub fn never_cancelled() -> Ctx<'static> {
        Ctx::new(None, &NEVER)
    }

    pub fn already_cancelled() -> Ctx<'static> {
        Ctx::new(None, &ALWAYS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_queued_token_cancels_once_and_never_starts() {
        let token = CancelToken::new();
        assert_eq!(token.cancel(), CancelledWhile::Queued);
        assert_eq!(token.cancel(), CancelledWhile::Settled);
        assert!(!token.start());
        assert!(token.is_cancelled());
    }

    #[test]
    fn a_running_token_reports_running_and_the_ctx_sees_it() {
        let token = CancelToken::new();
        let destroyed = AtomicBool::new(false);
        assert!(token.start());
        let ctx = Ctx::new(Some(&token), &destroyed);
        assert!(!ctx.cancelled());
        assert_eq!(token.cancel(), CancelledWhile::Running);
        assert!(ctx.cancelled());
    }

    #[test]
    fn destroying_the_pool_cancels_jobs_without_a_token() {
        let destroyed = AtomicBool::new(false);
        let ctx = Ctx::new(None, &destroyed);
        assert!(!ctx.cancelled());
        destroyed.store(true, Ordering::Relaxed);
        assert!(ctx.cancelled());
    }
}
