//! Cancellation: what a running task can see of abort, timeout and `destroy()`.

use super::parts::{Lender, Parts};
use std::panic::resume_unwind;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::Arc;

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

/// What a task is handed while it runs. Long loops call `cancelled()` and stop early; work
/// that splits into parts runs them with `for_each`, on the pool's idle threads too.
pub struct Ctx<'a> {
    token: Option<&'a CancelToken>,
    pool_destroyed: &'a AtomicBool,
    /// None outside a pool (a task's unit tests): parts run one after another.
    lender: Option<&'a dyn Lender>,
    /// The number of the pool thread running the job (0 outside a pool).
    thread: u32,
    /// The job handed its end to someone else (`relay`): the thread neither times nor
    /// delivers it.
    relayed: AtomicBool,
}

impl<'a> Ctx<'a> {
    pub(crate) fn new(
        token: Option<&'a CancelToken>,
        pool_destroyed: &'a AtomicBool,
        lender: Option<&'a dyn Lender>,
    ) -> Self {
        Self {
            token,
            pool_destroyed,
            lender,
            thread: 0,
            relayed: AtomicBool::new(false),
        }
    }

    pub(crate) fn on_thread(mut self, number: u32) -> Self {
        self.thread = number;
        self
    }

    /// The number of the pool thread running the job, as `Engine::threads` lists it.
    pub fn thread(&self) -> u32 {
        self.thread
    }

    /// Says that this job's end is delivered by `Relay::finish`, by whoever the job handed
    /// its work to: what the job returns is dropped, and its thread is free once it returns.
    pub fn relay(&self) {
        self.relayed.store(true, Ordering::Relaxed);
    }

    pub(crate) fn relayed(&self) -> bool {
        self.relayed.load(Ordering::Relaxed)
    }

    /// True once the task was aborted, timed out, or its pool destroyed. A relaxed load:
    /// cheap enough for inner loops, and a late look only delays the stop by one check.
    #[inline]
    pub fn cancelled(&self) -> bool {
        self.token.is_some_and(CancelToken::is_cancelled)
            || self.pool_destroyed.load(Ordering::Relaxed)
    }

    /// Runs `work` on every item, in any order: on this thread, and on any of the pool's
    /// threads that are idle, never on more threads than the pool has. A thread that helps
    /// takes one item at a time and goes back to the queue between items, so a queued task
    /// waits for at most one item's work. Once the task is cancelled, items not yet begun
    /// are skipped: check `cancelled()` after. A panic in `work` is raised here, after the
    /// items begun have finished.
    pub fn for_each<T: Send>(&self, items: &mut [T], work: impl Fn(&mut T) + Sync) {
        let lender = match self.lender {
            Some(lender) if items.len() > 1 => lender,
            _ => {
                for item in items {
                    if self.cancelled() {
                        return;
                    }
                    work(item);
                }
                return;
            }
        };
        let items = Items(items.as_mut_ptr(), items.len());
        let run_part = |i: usize| {
            if !self.cancelled() {
                // SAFETY: `Parts` hands out each index below the count once, so this is
                // the only reference to item `i`; the items outlive every part (see below).
                work(unsafe { items.get(i) });
            }
        };
        // SAFETY: `run_part` and the items it borrows live to the end of this call, and
        // `reclaimed` is dropped before them, however this scope ends (a panic in `lend`
        // or in the engine included): its drop returns only once no thread is in a part
        // and none can take one.
        let parts = unsafe { Parts::new(&run_part, items.1) };
        let reclaimed = ReclaimOnDrop { lender, parts };
        lender.lend(&reclaimed.parts);
        while reclaimed.parts.run_next() {}
        let parts = Arc::clone(&reclaimed.parts);
        drop(reclaimed);
        if let Some(panic) = parts.take_panic() {
            resume_unwind(panic);
        }
    }
}

/// Takes lent parts back when dropped: at the end of `for_each`, and as it unwinds, so that
/// no part can outlive the stack it points to. A panic while reclaiming during an unwind
/// aborts the process, which is safe; going on would not be.
struct ReclaimOnDrop<'a> {
    lender: &'a dyn Lender,
    parts: Arc<Parts>,
}

impl Drop for ReclaimOnDrop<'_> {
    fn drop(&mut self) {
        self.lender.reclaim(&self.parts);
    }
}

/// The items of one `for_each`, reachable from the threads that run its parts.
struct Items<T>(*mut T, usize);

// SAFETY: each item is reached from one thread at a time (one index, one part), and the
// items are Send.
unsafe impl<T: Send> Sync for Items<T> {}

impl<T> Items<T> {
    /// # Safety
    /// `i` is below the count, no other reference to item `i` is alive, and the slice the
    /// items came from is.
    #[allow(clippy::mut_from_ref)]
    unsafe fn get(&self, i: usize) -> &mut T {
        debug_assert!(i < self.1);
        // SAFETY: per this function's contract.
        unsafe { &mut *self.0.add(i) }
    }
}

#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    static NEVER: AtomicBool = AtomicBool::new(false);
    static ALWAYS: AtomicBool = AtomicBool::new(true);

    /// A context for unit tests of a task's pure core.
    pub fn never_cancelled() -> Ctx<'static> {
        Ctx::new(None, &NEVER, None)
    }

    pub fn already_cancelled() -> Ctx<'static> {
        Ctx::new(None, &ALWAYS, None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::sync::atomic::AtomicUsize;
    use std::sync::Mutex;
    use std::thread;
    use std::time::Duration;

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
        let ctx = Ctx::new(Some(&token), &destroyed, None);
        assert!(!ctx.cancelled());
        assert_eq!(token.cancel(), CancelledWhile::Running);
        assert!(ctx.cancelled());
    }

    /// Lends the parts to a thread of its own, then panics, as a bug in the engine would.
    struct PanickingLender {
        in_part: &'static AtomicUsize,
        helper: Mutex<Option<thread::JoinHandle<()>>>,
    }

    impl Lender for PanickingLender {
        fn lend(&self, parts: &Arc<Parts>) {
            let parts = Arc::clone(parts);
            *self.helper.lock().unwrap() = Some(thread::spawn(move || while parts.run_next() {}));
            while self.in_part.load(Ordering::SeqCst) == 0 {
                thread::yield_now();
            }
            panic!("the engine failed while lending");
        }

        fn reclaim(&self, _parts: &Arc<Parts>) {
            if let Some(helper) = self.helper.lock().unwrap().take() {
                helper.join().unwrap();
            }
        }
    }

    #[test]
    fn a_panic_while_parts_are_lent_waits_for_them_before_it_unwinds_past_for_each() {
        static IN_PART: AtomicUsize = AtomicUsize::new(0);
        let lender = PanickingLender {
            in_part: &IN_PART,
            helper: Mutex::new(None),
        };
        let destroyed = AtomicBool::new(false);
        let ctx = Ctx::new(None, &destroyed, Some(&lender));
        let mut items = vec![0u32; 4];
        let unwound = catch_unwind(AssertUnwindSafe(|| {
            ctx.for_each(&mut items, |item| {
                IN_PART.fetch_add(1, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(50));
                *item += 1;
                IN_PART.fetch_sub(1, Ordering::SeqCst);
            })
        }));
        assert!(unwound.is_err(), "the engine's panic reaches the task");
        // The parts point into for_each's stack frame, gone now: none may still be running.
        assert_eq!(IN_PART.load(Ordering::SeqCst), 0);
        assert!(items.iter().all(|&item| item <= 1));
        assert!(lender.helper.lock().unwrap().is_none(), "reclaimed");
    }

    #[test]
    fn destroying_the_pool_cancels_jobs_without_a_token() {
        let destroyed = AtomicBool::new(false);
        let ctx = Ctx::new(None, &destroyed, None);
        assert!(!ctx.cancelled());
        destroyed.store(true, Ordering::Relaxed);
        assert!(ctx.cancelled());
    }
}
