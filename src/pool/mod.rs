//! The engine: a sized pool of native threads running boxed jobs, with no napi in it.
//! It knows no task by name; how it queues, wakes, shrinks and stops is in `README.md`.

mod cancel;
mod parts;
mod queue;
mod stats;
mod sync;
mod threads;

#[cfg(test)]
pub(crate) use cancel::testing;
pub use cancel::{CancelToken, CancelledWhile, Ctx};
pub use stats::{LabelTimes, Timing};
pub use threads::panic_message;

use parts::{Lender, Lent, Parts};
use queue::PriorityQueue;
use stats::Stats;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use sync::{AtomicUsize, Condvar, JoinHandle, Mutex, MutexGuard};
use threads::{lower_priority, run, spawn_workers};

/// The pool's sizes, already validated by the caller.
#[derive(Debug, Clone)]
pub struct Config {
    /// Upper bound of threads alive at once (≥ 1).
    pub max_threads: usize,
    /// Threads kept alive while idle (≤ max_threads).
    pub min_threads: usize,
    /// How long an idle thread above `min_threads` lives.
    pub idle_timeout: Duration,
    /// Jobs that may wait beyond those a free thread would start at once.
    pub max_queue: usize,
    /// Added to each thread's nice value as it starts (Linux; elsewhere ignored): the
    /// threads yield the CPU to the process's other threads, Node's main thread first.
    pub nice_increment: u8,
}

/// The work of one job: pure Rust, run once on some thread.
pub type Work<O> = Box<dyn FnOnce(&Ctx) -> O + Send>;

pub struct Job<O> {
    pub id: u32,
    /// Higher runs first; FIFO within one priority.
    pub priority: f64,
    /// Present when the job can be cancelled on its own (abort, timeout).
    pub token: Option<Arc<CancelToken>>,
    /// Which times the job is counted under in `Engine::times_by_label` (the bridge
    /// uses the task's number; the engine knows no task by name).
    pub label: usize,
    pub work: Work<O>,
}

/// How a job ended. Every submitted job that was not refused is delivered exactly once.
#[derive(Debug)]
pub enum Outcome<O> {
    Finished(O),
    Panicked(String),
    /// Cancelled, or the pool destroyed, before a thread started it.
    NotRun,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    QueueFull,
    Closed,
}

/// Where results go. Called from worker threads, and from the caller's thread for jobs
/// that never ran; it must not block for long.
pub trait Sink<O>: Send + Sync + 'static {
    fn deliver(&self, id: u32, outcome: Outcome<O>);
    /// After `close` or `destroy`, once: the last thread has left its loop.
    fn threads_exited(&self);
    /// A fault outside any one job (a thread could not be started).
    fn fault(&self, message: String);
    /// Thread `number` left its loop: what the sink keeps for that thread can go.
    fn thread_left(&self, _number: u32) {}
}

/// Ordered by how much each gives up: a shutdown can only move down this list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Shutdown {
    /// Take no more jobs; finish the queued ones; then exit.
    Close,
    /// Take no more jobs; drop the queued ones; let the running ones finish; exit.
    CloseDroppingQueued,
    /// Take no more jobs; drop the queued ones; cancel the running ones; exit.
    Destroy,
}

struct Queued<O> {
    job: Job<O>,
    enqueued: Instant,
}

/// Everything the scheduler decides on, behind one lock.
struct State<O> {
    queue: PriorityQueue<Queued<O>>,
    /// Jobs still in `queue` whose token was cancelled there: already delivered as
    /// `NotRun`, dropped unseen when popped. Never more than `queue.len()`.
    cancelled_in_queue: usize,
    /// The numbers of the threads spawned (or being spawned) that have not left their
    /// loop, in the order they were counted; numbers count up from 1 and are never reused.
    live: Vec<u32>,
    last_thread_number: u32,
    /// Threads out of work (spinning or asleep on `work_ready`) that no one has
    /// notified yet.
    idle: usize,
    /// Of the idle threads, those still spinning: they take a notification without
    /// being woken, so `submit` signals the condvar only beyond them.
    spinning: usize,
    /// Notifications given and not yet taken. A thread that wakes and finds this at 0
    /// woke spuriously or timed out, and goes back to sleep or leaves.
    notified: usize,
    /// Threads running a job right now (threads lent to a job's parts are not counted).
    running: usize,
    /// Parts of running jobs offered to idle threads (`Ctx::for_each`); a free thread
    /// looks here once the queue is empty.
    lent: Vec<Lent>,
    shutdown: Option<Shutdown>,
    exit_reported: bool,
    stats: Stats,
}

impl<O> State<O> {
    /// Whether one more job would wait beyond those a free thread would start at once
    /// past `max_queue` (0 too: a job a free thread takes at once never waits).
    fn queue_is_full(&self, max_threads: usize, max_queue: usize) -> bool {
        let waiting = self.queue.len() - self.cancelled_in_queue;
        (waiting + 1).saturating_sub(max_threads - self.running) > max_queue
    }

    /// Finds a thread for new work: an idle one is notified, else a new one is counted
    /// if the pool has room for it.
    fn find_thread(&mut self, max_threads: usize) -> Found {
        if self.idle > 0 {
            self.idle = one_less(self.idle, "idle threads");
            self.notified += 1;
            Found::Notified {
                signal: self.notified > self.spinning,
            }
        } else if self.live.len() < max_threads {
            Found::Spawn(self.count_thread())
        } else {
            Found::None
        }
    }

    /// Counts a thread about to be spawned; its number.
    fn count_thread(&mut self) -> u32 {
        self.last_thread_number += 1;
        self.live.push(self.last_thread_number);
        self.last_thread_number
    }

    /// Thread `number` left (or never started): true if the caller must report the exit.
    fn thread_gone(&mut self, number: u32) -> bool {
        let place = self.live.iter().position(|&live| live == number);
        self.live
            .remove(place.expect("a thread left that was never counted"));
        let report = self.live.is_empty() && self.shutdown.is_some() && !self.exit_reported;
        self.exit_reported |= report;
        report
    }
}

/// Where `find_thread` found a thread.
enum Found {
    /// An idle thread was notified; the condvar must be signalled unless it still spins.
    Notified { signal: bool },
    /// A new thread of this number is counted and must be spawned.
    Spawn(u32),
    /// Every thread is busy.
    None,
}

/// Signals and spawns owed once the lock is released.
#[derive(Default)]
struct Wakes {
    signals: usize,
    spawns: Vec<u32>,
}

impl Wakes {
    /// Owes what waking `found` takes; false when no thread was found.
    fn add(&mut self, found: Found) -> bool {
        match found {
            Found::Notified { signal } => self.signals += usize::from(signal),
            Found::Spawn(number) => self.spawns.push(number),
            Found::None => return false,
        }
        true
    }

    fn send<O: Send + 'static, S: Sink<O>>(self, shared: &Arc<Shared<O, S>>) {
        for _ in 0..self.signals {
            shared.work_ready.notify_one();
        }
        spawn_workers(shared, self.spawns);
    }
}

struct Shared<O, S> {
    config: Config,
    state: Mutex<State<O>>,
    work_ready: Condvar,
    /// Signalled when the last helper leaves a lent job's part, for `reclaim`.
    parts_done: Condvar,
    /// Set by `destroy`: every running job's `Ctx::cancelled()` turns true.
    destroyed: AtomicBool,
    /// A lock-free copy of `State::notified` for spinning threads to poll.
    notified_hint: AtomicUsize,
    sink: S,
    /// Handles of threads not yet joined; finished ones are pruned as new ones start.
    handles: Mutex<Vec<JoinHandle<()>>>,
}

/// The pool. Dropping it destroys it and waits for its threads, so it is safe to drop
/// after `close`, after `destroy`, or instead of either.
pub struct Engine<O: Send + 'static, S: Sink<O>> {
    shared: Arc<Shared<O, S>>,
}

impl<O: Send + 'static, S: Sink<O>> Engine<O, S> {
    /// Starts `min_threads` threads at once; the rest start on demand.
    pub fn new(config: Config, sink: S) -> Self {
        assert!(config.max_threads >= 1 && config.min_threads <= config.max_threads);
        let min_threads = config.min_threads;
        let max_threads = config.max_threads;
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(State {
                queue: PriorityQueue::default(),
                cancelled_in_queue: 0,
                live: Vec::with_capacity(max_threads),
                last_thread_number: 0,
                idle: 0,
                spinning: 0,
                notified: 0,
                running: 0,
                lent: Vec::new(),
                shutdown: None,
                exit_reported: false,
                stats: Stats::new(),
            }),
            work_ready: Condvar::new(),
            parts_done: Condvar::new(),
            destroyed: AtomicBool::new(false),
            notified_hint: AtomicUsize::new(0),
            sink,
            handles: Mutex::new(Vec::new()),
        });
        let first = {
            let mut state = shared.state.lock();
            (0..min_threads).map(|_| state.count_thread()).collect()
        };
        spawn_workers(&shared, first);
        Self { shared }
    }

    /// Queues the jobs under one lock; returns those refused, for the caller to report.
    pub fn submit(&self, jobs: Vec<Job<O>>) -> Vec<(Job<O>, Refusal)> {
        let shared = &self.shared;
        let enqueued = Instant::now();
        let mut refused = Vec::new();
        let mut wakes = Wakes::default();
        {
            let mut state = shared.state.lock();
            for job in jobs {
                if state.shutdown.is_some() {
                    refused.push((job, Refusal::Closed));
                    continue;
                }
                if state.queue_is_full(shared.config.max_threads, shared.config.max_queue) {
                    refused.push((job, Refusal::QueueFull));
                    continue;
                }
                state.queue.push(job.priority, Queued { job, enqueued });
                wakes.add(state.find_thread(shared.config.max_threads));
            }
            shared
                .notified_hint
                .store(state.notified, Ordering::Release);
        }
        wakes.send(shared);
        refused
    }

    /// Cancels one job. A queued one is delivered as `NotRun` now and skipped later;
    /// a running one sees `Ctx::cancelled()` and is delivered when it returns.
    pub fn cancel(&self, id: u32, token: &CancelToken) -> CancelledWhile {
        let mut state = self.shared.state.lock();
        // Under the lock, so a worker popping this job sees a consistent count.
        let cancelled_while = token.cancel();
        if cancelled_while == CancelledWhile::Queued {
            state.cancelled_in_queue += 1;
            drop(state);
            self.shared.sink.deliver(id, Outcome::NotRun);
        }
        cancelled_while
    }

    /// Takes no more jobs, lets the queued and running ones finish, then the threads exit.
    pub fn close(&self) {
        self.shut_down(Shutdown::Close);
    }

    /// Takes no more jobs, delivers the queued ones as `NotRun`, lets the running ones
    /// finish, then the threads exit.
    pub fn close_dropping_queued(&self) {
        self.shut_down(Shutdown::CloseDroppingQueued);
    }

    /// Takes no more jobs, delivers the queued ones as `NotRun`, cancels the running ones.
    pub fn destroy(&self) {
        self.shut_down(Shutdown::Destroy);
    }

    /// Every shutdown begins here: a stop already under way that gives up as much or more
    /// stands, so calling it again, or weaker, changes nothing. The threads exit on their
    /// own; `join` waits for them.
    pub fn shut_down(&self, how: Shutdown) {
        let shared = &self.shared;
        let mut state = shared.state.lock();
        if state.shutdown >= Some(how) {
            return;
        }
        state.shutdown = Some(how);
        let mut dropped = Vec::new();
        if how == Shutdown::Destroy {
            shared.destroyed.store(true, Ordering::Relaxed);
        }
        if how >= Shutdown::CloseDroppingQueued {
            for queued in state.queue.drain() {
                let already_delivered = queued.job.token.as_ref().is_some_and(|t| !t.start());
                if !already_delivered {
                    dropped.push(queued.job.id);
                }
            }
            state.cancelled_in_queue = 0;
        }
        let report_exit = state.live.is_empty() && !state.exit_reported;
        state.exit_reported |= report_exit;
        drop(state);
        shared.work_ready.notify_all();
        for id in dropped {
            shared.sink.deliver(id, Outcome::NotRun);
        }
        if report_exit {
            shared.sink.threads_exited();
        }
    }

    /// Waits for every thread to end. Call after `close`/`destroy` (or it waits forever).
    pub fn join(&self) {
        let handles = std::mem::take(&mut *self.shared.handles.lock());
        for handle in handles {
            // A worker catches every task panic, so a join error is impossible in practice,
            // and there is nothing left to clean up if it happens.
            let _ = handle.join();
        }
    }
}

impl<O: Send + 'static, S: Sink<O>> Engine<O, S> {
    /// A handle for work that runs off the pool's threads on a thread's behalf.
    pub fn relay(&self) -> Relay<O, S> {
        Relay {
            shared: Arc::clone(&self.shared),
        }
    }
}

/// A job taken by a relay: what it needs to be finished. Its work is dropped unrun (and
/// its token, if any, was started); the relay's owner knows the job by its id and label.
#[derive(Debug)]
pub struct Relayed {
    pub id: u32,
    pub label: usize,
    started: Instant,
}

impl Relayed {
    /// The job a pool thread is running now, relayed by it (`Ctx::relay`): its wait was
    /// recorded when the thread took it.
    pub fn running(id: u32, label: usize) -> Self {
        Relayed {
            id,
            label,
            started: Instant::now(),
        }
    }
}

/// Lets a job that handed its work elsewhere (a JS worker, say) go on from its thread: the
/// one it handed to finishes jobs and takes the next ones while the thread waits, counted as
/// running, so the pool still never runs more than `max_threads` jobs.
pub struct Relay<O: Send + 'static, S: Sink<O>> {
    shared: Arc<Shared<O, S>>,
}

impl<O: Send + 'static, S: Sink<O>> Relay<O, S> {
    /// Times and delivers a relayed job's end.
    pub fn finish(&self, job: Relayed, outcome: Outcome<O>) {
        self.shared
            .state
            .lock()
            .stats
            .record_run(job.label, job.started.elapsed());
        self.shared.sink.deliver(job.id, outcome);
    }

    /// Takes the best queued job if `wanted` accepts its label, as a thread takes a job:
    /// jobs cancelled while queued are skipped, the wait is recorded. None when the best job
    /// is another's (it stays for the threads) or none is queued.
    pub fn take_next(&self, wanted: impl Fn(usize) -> bool) -> Option<Relayed> {
        let mut state = self.shared.state.lock();
        loop {
            if !wanted(state.queue.peek()?.job.label) {
                return None;
            }
            let Queued { job, enqueued } = state.queue.pop()?;
            if job.token.as_ref().is_some_and(|token| !token.start()) {
                state.cancelled_in_queue =
                    one_less(state.cancelled_in_queue, "jobs cancelled in the queue");
                continue;
            }
            let started = Instant::now();
            state
                .stats
                .record_wait(job.label, started.saturating_duration_since(enqueued));
            return Some(Relayed {
                id: job.id,
                label: job.label,
                started,
            });
        }
    }
}

impl<O: Send + 'static, S: Sink<O>> Drop for Engine<O, S> {
    fn drop(&mut self) {
        self.destroy();
        self.join();
    }
}

/// A worker's life: take the best job, run it, deliver it; sleep when there is none;
/// leave when idle too long above `min_threads`, or when the pool shuts down.
fn serve<O: Send + 'static, S: Sink<O>>(shared: Arc<Shared<O, S>>, number: u32) {
    let config = &shared.config;
    lower_priority(config.nice_increment);
    let mut state = shared.state.lock();
    'serve: loop {
        if let Some(Queued { job, enqueued }) = state.queue.pop() {
            if job.token.as_ref().is_some_and(|token| !token.start()) {
                // Cancelled while queued: `cancel` delivered it already.
                state.cancelled_in_queue =
                    one_less(state.cancelled_in_queue, "jobs cancelled in the queue");
                continue;
            }
            state.running += 1;
            let started = Instant::now();
            let label = job.label;
            state
                .stats
                .record_wait(label, started.saturating_duration_since(enqueued));
            let ended = MutexGuard::unlocked(&mut state, || run(&shared, number, job));
            state.running = one_less(state.running, "running jobs");
            if let Some((id, outcome)) = ended {
                state.stats.record_run(label, started.elapsed());
                // Recorded first, so a caller that sees the result also sees it counted.
                MutexGuard::unlocked(&mut state, || shared.sink.deliver(id, outcome));
            }
            continue;
        }
        if let Some(lent) = state.lent.iter_mut().find(|lent| lent.parts.left()) {
            // One part at a time, then back to the queue, which comes first.
            lent.helpers += 1;
            let parts = Arc::clone(&lent.parts);
            MutexGuard::unlocked(&mut state, || parts.run_next());
            let lent = state
                .lent
                .iter_mut()
                .find(|lent| Arc::ptr_eq(&lent.parts, &parts))
                .expect("lent parts stay until their helpers leave");
            lent.helpers = one_less(lent.helpers, "helpers of lent parts");
            if lent.helpers == 0 {
                shared.parts_done.notify_all();
            }
            continue;
        }
        if state.shutdown.is_some() {
            break;
        }
        state.idle += 1;
        if spin_for_notification(&shared, &mut state) {
            continue 'serve;
        }
        // None: the timeout is past any instant (Duration::MAX), so the thread never leaves.
        let deadline = Instant::now().checked_add(config.idle_timeout);
        let mut timed_out = false;
        // Every condition is checked under the lock before each wait, so a notification
        // or shutdown that came while we spun (or slept) is never slept through.
        loop {
            if take_notification(&shared, &mut state) {
                continue 'serve;
            }
            if state.shutdown.is_some() {
                state.idle = one_less(state.idle, "idle threads");
                continue 'serve;
            }
            let may_leave = state.live.len() > config.min_threads;
            if timed_out && may_leave {
                state.idle = one_less(state.idle, "idle threads");
                break 'serve;
            }
            timed_out = match deadline {
                Some(deadline) if may_leave => shared
                    .work_ready
                    .wait_until(&mut state, deadline)
                    .timed_out(),
                _ => {
                    shared.work_ready.wait(&mut state);
                    false
                }
            };
        }
    }
    let report_exit = state.thread_gone(number);
    drop(state);
    shared.sink.thread_left(number);
    if report_exit {
        shared.sink.threads_exited();
    }
}

impl<O: Send + 'static, S: Sink<O>> Lender for Arc<Shared<O, S>> {
    /// Offers the parts to as many threads as could help (one fewer than there are
    /// parts or threads): idle ones are notified, and missing ones started, as `submit`
    /// does for jobs; a thread notified finds them once the queue is empty.
    fn lend(&self, parts: &Arc<Parts>) {
        let mut wakes = Wakes::default();
        {
            let mut state = self.state.lock();
            state.lent.push(Lent {
                parts: Arc::clone(parts),
                helpers: 0,
            });
            let wanted = (parts.count() - 1).min(self.config.max_threads - 1);
            for _ in 0..wanted {
                if !wakes.add(state.find_thread(self.config.max_threads)) {
                    break;
                }
            }
            self.notified_hint.store(state.notified, Ordering::Release);
        }
        wakes.send(self);
    }

    fn reclaim(&self, parts: &Arc<Parts>) {
        let mut state = self.state.lock();
        loop {
            // Absent only if `lend` panicked before it offered them: no thread has them.
            let Some(place) = state
                .lent
                .iter()
                .position(|lent| Arc::ptr_eq(&lent.parts, parts))
            else {
                return;
            };
            if state.lent[place].helpers == 0 {
                state.lent.swap_remove(place);
                return;
            }
            self.parts_done.wait(&mut state);
        }
    }
}

/// How long the first thread to run out of work keeps polling for more before it sleeps
/// (OpenMP calls this the blocktime). A task that comes within it starts without a futex
/// wake, which on a virtual machine costs tens of microseconds because the sleeping vCPU
/// halts. Only one thread polls at a time, yielding its CPU to anything else runnable,
/// so an idle pool costs at most this much CPU time after each burst.
/// Under loom, which has no clock, a thread looks at the hint once and goes to sleep.
pub const SPIN_BEFORE_SLEEP: Duration = if cfg!(loom) {
    Duration::ZERO
} else {
    Duration::from_millis(10)
};
/// The other threads poll only briefly: one poller is enough to catch the next task.
const SPIN_BEFORE_SLEEP_OTHERS: Duration = if cfg!(loom) {
    Duration::ZERO
} else {
    Duration::from_micros(50)
};

/// Called idle (counted in `idle`) with the lock held; polls the lock-free hint with the
/// lock released. True if it took a notification; false if it must sleep, in which case
/// it has checked once more under the lock, so no notification is missed.
fn spin_for_notification<O, S>(shared: &Shared<O, S>, state: &mut MutexGuard<State<O>>) -> bool {
    let spin = if state.spinning == 0 {
        SPIN_BEFORE_SLEEP
    } else {
        SPIN_BEFORE_SLEEP_OTHERS
    };
    state.spinning += 1;
    MutexGuard::unlocked(state, || {
        let until = Instant::now() + spin;
        while shared.notified_hint.load(Ordering::Acquire) == 0
            && !shared.destroyed.load(Ordering::Relaxed)
            && Instant::now() < until
        {
            // Yield rather than spin hard: the thread we just woke (Node's main thread,
            // woken by our result) is often put on this very CPU, and must not wait
            // behind us.
            sync::yield_now();
        }
    });
    state.spinning = one_less(state.spinning, "spinning threads");
    take_notification(shared, state)
}

/// Takes a notification if one is waiting; the notifier took us off `idle` already.
fn take_notification<O, S>(shared: &Shared<O, S>, state: &mut MutexGuard<State<O>>) -> bool {
    if state.notified == 0 {
        return false;
    }
    state.notified = one_less(state.notified, "notified threads");
    shared
        .notified_hint
        .store(state.notified, Ordering::Release);
    true
}

/// `counter - 1` for a count the protocol keeps at or above zero: going below is a bug in
/// the engine, reported by name rather than wrapped to a huge count in a release build.
fn one_less(counter: usize, what: &str) -> usize {
    counter
        .checked_sub(1)
        .unwrap_or_else(|| panic!("the engine's count of {what} went below zero"))
}

#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(all(test, not(loom)))]
mod tests;
