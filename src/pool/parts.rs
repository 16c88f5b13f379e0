//! Parts of one running job, lent to the pool's idle threads (`Ctx::for_each`): the job's
//! own thread runs parts too, and does not return before every part it lent has finished.

use super::sync::{AtomicUsize, Mutex};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::Ordering;
use std::sync::Arc;

/// What one part does: the work of item `i` of the lending job's items.
pub(crate) type RunPart<'a> = dyn Fn(usize) + Sync + 'a;

/// The parts of one `for_each` call: handed out one at a time to whichever thread asks,
/// the lending thread first among them.
pub(crate) struct Parts {
    /// Borrowed from the lending thread's stack, with its lifetime erased: it is called
    /// only between `lend` and the end of `reclaim`, and `reclaim` does not return while a
    /// thread that took a part is still in it.
    run: *const RunPart<'static>,
    count: usize,
    next: AtomicUsize,
    /// The first panic of a part, raised again on the lending thread.
    panic: Mutex<Option<Box<dyn Any + Send>>>,
}

// SAFETY: `run` points to a `Sync` closure that outlives every call made through it (see
// the field); everything else is Send and Sync.
unsafe impl Send for Parts {}
// SAFETY: as for Send: the closure is Sync, and parts are handed out through an atomic.
unsafe impl Sync for Parts {}

impl Parts {
    /// # Safety
    /// `run` must stay alive until every part taken has finished running: the lending
    /// thread calls `Lender::reclaim` before `run` goes out of scope, on every path out,
    /// unwinding included (a drop guard).
    pub(crate) unsafe fn new(run: &RunPart<'_>, count: usize) -> Arc<Self> {
        // SAFETY: only the lifetime changes (the layout of the pointer is the same); the
        // caller keeps `run` alive for as long as parts can run.
        let run =
            unsafe { std::mem::transmute::<*const RunPart<'_>, *const RunPart<'static>>(run) };
        Arc::new(Parts {
            run,
            count,
            next: AtomicUsize::new(0),
            panic: Mutex::new(None),
        })
    }

    pub(crate) fn count(&self) -> usize {
        self.count
    }

    /// Whether a part is left for a helper to take.
    pub(crate) fn left(&self) -> bool {
        self.next.load(Ordering::Relaxed) < self.count
    }

    /// Takes the next part and runs it; false when none was left. A panicking part stops
    /// the others from being taken, and its panic is kept for the lending thread.
    pub(crate) fn run_next(&self) -> bool {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        if i >= self.count {
            return false;
        }
        // SAFETY: `run` is alive while parts are taken (see the field), and `reclaim`
        // waits for this call to return before the lending thread goes on.
        let run = unsafe { &*self.run };
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| run(i))) {
            self.next.fetch_max(self.count, Ordering::Relaxed);
            self.panic.lock().get_or_insert(panic);
        }
        true
    }

    pub(crate) fn take_panic(&self) -> Option<Box<dyn Any + Send>> {
        self.panic.lock().take()
    }
}

/// The engine's side of lending: `lend` offers the parts to idle threads, `reclaim` takes
/// them back once the lending thread has run out of parts to take.
pub(crate) trait Lender: Sync {
    fn lend(&self, parts: &Arc<Parts>);
    /// Returns once no thread is running a part of `parts`; no thread takes one after.
    fn reclaim(&self, parts: &Arc<Parts>);
}

/// A lent thread's hold on the parts it helps with, kept in the engine's state.
pub(crate) struct Lent {
    pub parts: Arc<Parts>,
    /// Threads running one of these parts now, besides the lending one.
    pub helpers: usize,
}
