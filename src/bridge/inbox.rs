//! The completion path: worker threads drop delivered jobs into the inbox; the main
//! thread takes them in batches. The ThreadsafeFunction is only a wake-up, called when
//! the inbox goes from empty to non-empty, so a million tiny jobs are a few thousand
//! wake-ups rather than a million.

use super::wakeup::Wakeup;
use crate::pool::{Outcome, Sink};
use crate::tasks::{Encode, Line, TaskResult};
use napi::{sys, Env};
use parking_lot::Mutex;
use std::cell::Cell;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What a job hands back: parts of its result while it runs, then how it ended. One queue
/// holds both, so a job's parts reach JS in order and before its end.
pub enum Delivery {
    Part(Box<dyn Encode>),
    /// How far a running job is, 0..1, for a caller that asked (`onProgress`).
    Progress(f64),
    End(Outcome<TaskResult>),
}

/// A job's id and what it handed back.
pub type Delivered = (u32, Delivery);

#[derive(Default)]
struct Waiting {
    delivered: Vec<Delivered>,
    /// The engine's threads have all exited after close/destroy.
    exited: bool,
    /// Faults outside any one job, for the pool's `error` event.
    faults: Vec<String>,
    /// Pool threads that need a JS worker to run a worker file's job, by number.
    workers_wanted: Vec<u32>,
    /// Pool threads that left their loop, by number: their JS workers, if any, can go.
    threads_left: Vec<u32>,
    /// The ThreadsafeFunction was released (after exit) or closed by Node (teardown):
    /// it must not be called again.
    wakeup_gone: bool,
}

impl Waiting {
    fn is_empty(&self) -> bool {
        self.delivered.is_empty()
            && !self.exited
            && self.faults.is_empty()
            && self.workers_wanted.is_empty()
            && self.threads_left.is_empty()
    }
}

/// What one wake-up hands to the main thread.
pub struct Drained {
    pub delivered: Vec<Delivered>,
    pub exited: bool,
    pub faults: Vec<String>,
    pub workers_wanted: Vec<u32>,
    pub threads_left: Vec<u32>,
}

pub struct Inbox {
    waiting: Mutex<Waiting>,
    /// Called only while `wakeup_gone` is false, checked under the lock that sets it.
    wakeup: Wakeup,
}

impl Inbox {
    /// Makes the pool's ThreadsafeFunction around `wake`, unreferenced: an idle pool
    /// must not keep the process alive.
    pub fn new(env: &Env, wake: sys::napi_value) -> napi::Result<Self> {
        Ok(Self {
            waiting: Mutex::new(Waiting::default()),
            wakeup: Wakeup::new(env, wake, false, None)?,
        })
    }

    fn post(&self, add: impl FnOnce(&mut Waiting)) {
        let mut waiting = self.waiting.lock();
        let was_empty = waiting.is_empty();
        add(&mut waiting);
        if was_empty {
            self.wake(&waiting);
        }
    }

    /// Called with the lock held, so `wakeup_gone` cannot change underneath.
    fn wake(&self, waiting: &Waiting) {
        if !waiting.wakeup_gone {
            // SAFETY: the function is alive while `wakeup_gone` is false (see above).
            unsafe { self.wakeup.call() }
        }
    }

    /// Main thread: take up to `limit` delivered jobs, and any exit or faults. If more
    /// are left, wake again, since no worker will (the inbox is not empty).
    pub fn take(&self, limit: usize) -> Drained {
        let mut waiting = self.waiting.lock();
        let delivered = if waiting.delivered.len() > limit {
            let rest = waiting.delivered.split_off(limit);
            std::mem::replace(&mut waiting.delivered, rest)
        } else {
            std::mem::take(&mut waiting.delivered)
        };
        // The exit follows every result, so it is handed over only with the last of them.
        let exited = waiting.delivered.is_empty() && std::mem::take(&mut waiting.exited);
        let faults = std::mem::take(&mut waiting.faults);
        let workers_wanted = std::mem::take(&mut waiting.workers_wanted);
        let threads_left = std::mem::take(&mut waiting.threads_left);
        if !waiting.is_empty() {
            self.wake(&waiting);
        }
        Drained {
            delivered,
            exited,
            faults,
            workers_wanted,
            threads_left,
        }
    }

    /// Main thread: keep the process alive while work is in flight, or not.
    pub fn set_referenced(&self, env: &Env, referenced: bool) {
        let waiting = self.waiting.lock();
        if waiting.wakeup_gone {
            return;
        }
        // SAFETY: main thread, live env, function not released (checked under the lock).
        unsafe {
            if referenced {
                sys::napi_ref_threadsafe_function(env.raw(), self.wakeup.raw());
            } else {
                sys::napi_unref_threadsafe_function(env.raw(), self.wakeup.raw());
            }
        }
    }

    /// Main thread, once the threads have exited and been joined: nothing can post any
    /// more, so the function is released and the JS callback it holds can be collected.
    pub fn release(&self) {
        let mut waiting = self.waiting.lock();
        if !std::mem::replace(&mut waiting.wakeup_gone, true) {
            // SAFETY: the function is alive (flag was false) and released exactly once.
            unsafe {
                sys::napi_release_threadsafe_function(
                    self.wakeup.raw(),
                    sys::ThreadsafeFunctionReleaseMode::release,
                );
            }
        }
    }

    /// Environment teardown: Node closes the function itself; we only stop calling it.
    pub fn forget_wakeup(&self) {
        self.waiting.lock().wakeup_gone = true;
    }
}

impl Sink<TaskResult> for std::sync::Arc<Inbox> {
    fn deliver(&self, id: u32, outcome: Outcome<TaskResult>) {
        self.send(id, Delivery::End(outcome));
    }

    fn threads_exited(&self) {
        self.post(|waiting| waiting.exited = true);
    }

    fn fault(&self, message: String) {
        self.post(|waiting| waiting.faults.push(message));
    }

    fn thread_left(&self, number: u32) {
        self.post(|waiting| waiting.threads_left.push(number));
    }
}

impl Inbox {
    /// What job `id` hands back, in order: its parts and progress come before its end.
    fn send(&self, id: u32, delivery: Delivery) {
        self.post(|waiting| waiting.delivered.push((id, delivery)));
    }

    /// Asks the main thread for a JS worker for pool thread `number`.
    pub fn want_worker(&self, number: u32) {
        self.post(|waiting| waiting.workers_wanted.push(number));
    }

    /// A wake-up with nothing to take: `drain` hands back an empty batch. If the inbox is
    /// not empty, a wake-up is on its way already.
    fn result_soon(&self) {
        let waiting = self.waiting.lock();
        if waiting.is_empty() {
            self.wake(&waiting);
        }
    }
}

/// How long before a long task's end the main thread is woken. On a virtual machine a
/// thread idle for tens of milliseconds sleeps deeply and is slow to wake (bench/README.md,
/// the pool's round trips); one idle for under a millisecond wakes many times faster. Woken
/// this early, the main thread is only lightly asleep again when the result comes.
pub const RESULT_LEAD: Duration = Duration::from_millis(1);

/// Foresees the end of a long loop from its progress: due once, when the end is within
/// `RESULT_LEAD`. It starts its clock at the first report, on the task's thread, so that a
/// task that reports nothing (most are small) never reads the clock.
struct EndForecast {
    /// When the first report came, and how far the loop was then.
    first: Cell<Option<(Instant, usize)>>,
    told: Cell<bool>,
}

impl EndForecast {
    fn new() -> Self {
        EndForecast {
            first: Cell::new(None),
            told: Cell::new(false),
        }
    }

    /// True the first time `done` of `total` steps leave no more than `RESULT_LEAD`, at
    /// the pace since the first report. `now` is read only when that can matter.
    fn due(&self, now: impl FnOnce() -> Instant, done: usize, total: usize) -> bool {
        // At the end the result itself wakes the main thread.
        if self.told.get() || done >= total {
            return false;
        }
        let Some((first_at, first_done)) = self.first.get() else {
            self.first.set(Some((now(), done)));
            return false;
        };
        if done <= first_done {
            return false;
        }
        let steps_left = (total - done) as f64 / (done - first_done) as f64;
        let left = now()
            .saturating_duration_since(first_at)
            .mul_f64(steps_left);
        self.told.set(left <= RESULT_LEAD);
        self.told.get()
    }
}

/// Progress reports reach the caller at most this often: a progress bar needs no more,
/// and each report is a turn of the main thread.
pub const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// One running job's line to the main thread: its parts go into the inbox, and its progress
/// wakes the main thread `RESULT_LEAD` ahead of the result (and, when the caller asked,
/// is reported every `PROGRESS_EVERY`).
pub struct JobLine {
    id: u32,
    inbox: Arc<Inbox>,
    forecast: EndForecast,
    /// When progress was last reported (or first stepped); None when the caller did not
    /// ask for it.
    reported: Option<Cell<Option<Instant>>>,
}

impl JobLine {
    pub fn new(id: u32, inbox: Arc<Inbox>, reports_progress: bool) -> Self {
        JobLine {
            id,
            inbox,
            forecast: EndForecast::new(),
            reported: reports_progress.then(|| Cell::new(None)),
        }
    }

    /// Whether a report is due now: every `PROGRESS_EVERY` from the task's first step, so
    /// that a task shorter than that reports nothing (a report it made would be stale
    /// before it arrived, and each costs the caller, a queue's round trip for instance).
    fn report_due(reported: &Cell<Option<Instant>>) -> bool {
        let now = Instant::now();
        match reported.get() {
            Some(last) if now.saturating_duration_since(last) >= PROGRESS_EVERY => {
                reported.set(Some(now));
                true
            }
            Some(_) => false,
            None => {
                reported.set(Some(now));
                false
            }
        }
    }
}

impl Line for JobLine {
    fn send(&self, part: Box<dyn Encode>) {
        self.inbox.send(self.id, Delivery::Part(part));
    }

    fn progress(&self, done: usize, total: usize) {
        if let Some(reported) = &self.reported {
            if total > 0 && Self::report_due(reported) {
                self.inbox.send(
                    self.id,
                    Delivery::Progress((done as f64 / total as f64).min(1.0)),
                );
            }
        }
        if self.forecast.due(Instant::now, done, total) {
            self.inbox.result_soon();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_end_is_due_once_when_it_is_within_the_lead() {
        let forecast = EndForecast::new();
        let start = Instant::now();
        let at = |ms| start + Duration::from_millis(ms);
        // The first report starts the clock: 10 of 100 steps.
        assert!(!forecast.due(|| at(0), 10, 100));
        // 20 of 100 after 10 ms: 1 ms a step, 80 ms left.
        assert!(!forecast.due(|| at(10), 20, 100));
        // 99 of 100 after 89 ms: 1 ms left.
        assert!(forecast.due(|| at(89), 99, 100));
        assert!(!forecast.due(|| at(89), 99, 100));
    }

    #[test]
    fn a_finished_loop_or_a_single_report_is_never_due() {
        let forecast = EndForecast::new();
        assert!(!forecast.due(Instant::now, 100, 100));
        assert!(!forecast.due(Instant::now, 99, 100));
    }
}
