//! The napi glue: the `NativePool` class behind `index.js`'s `Pool`.
//!
//! JS makes the Promises and batches `run` calls per microtask into one `submit`; results
//! come back through the inbox, many per wake-up, through `drain()`.

mod inbox;
mod js_workers;
mod wakeup;

use crate::error::{Failure, Kind};
use crate::js::{self, Decoder, Owned};
use crate::pool::{
    panic_message, CancelToken, CancelledWhile, Config, Ctx, Engine, Job, LabelTimes, Outcome,
    Refusal, Relayed, Shutdown, Timing, Work,
};
use crate::tasks::{registry, Registered, TaskResult};
use inbox::{Delivery, Drained, Inbox, JobLine};
use js_workers::{JsJobs, Packed, Payload};
use napi::bindgen_prelude::{Array, JsValue, Uint32ArraySlice, Uint8ArraySlice, Unknown};
use napi::{sys, Env, ValueType};
use napi_derive::napi;
use std::collections::{HashMap, VecDeque};
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

type PoolEngine = Engine<TaskResult, Arc<Inbox>>;

/// The tasks, with each job's line to the main thread a `JobLine`.
static REGISTRY: &[Registered<JobLine>] = &registry::<JobLine>();

// `drain()`'s kinds of what it hands back, besides a failure's (the failure kind's number,
// from 1), and `submit`'s flag bits, each list in order.

/// `drain()`'s kind of a task's whole result.
#[napi]
pub const RESULT_KIND: u8 = 0;
/// `drain()`'s kind of a running task's progress, a number from 0 to 1.
#[napi]
pub const PROGRESS_KIND: u8 = u8::MAX - 1;
/// `drain()`'s kind of a part of a running task's result.
#[napi]
pub const PART_KIND: u8 = u8::MAX;

/// `submit`'s flag bit for a task that can be cancelled (it has a signal or a timeout).
#[napi]
pub const TASK_CANCELLABLE: u8 = 1;
/// `submit`'s flag bit for a task whose data `run` cloned with the caller's `transferList`
/// moved into it: nothing but the pool can reach its buffers, so they are read in place.
#[napi]
pub const TASK_HANDED_OVER: u8 = 2;
/// `submit`'s flag bit for a task whose caller wants its progress (`onProgress`).
#[napi]
pub const TASK_REPORTS_PROGRESS: u8 = 4;

/// `submit`'s flag bit for a worker file's task whose data goes through its worker's port
/// (it has a `transferList`, or was `move`d): the engine carries no data for it.
#[napi]
pub const TASK_DATA_BY_PORT: u8 = 8;
/// `submit`'s flag bit for a task `stage` decoded already: it takes its place in the batch.
#[napi]
pub const TASK_STAGED: u8 = 16;
/// `submit`'s flag bit for a task whose data is bare bytes JS copied into the batch's arena,
/// after the bytes of the tasks before it; its entry in `data` is their length.
#[napi]
pub const TASK_IN_ARENA: u8 = 32;

/// Most finished jobs turned into JS values in one `drain()`, so that a flood of results
/// still lets timers and I/O run between batches; JS sizes the arrays `drain` fills to it.
#[napi]
pub const DRAIN_CAPACITY: u32 = 8192;

/// The options of `new Pool()`, validated and defaulted by `index.js`.
#[napi(object)]
pub struct PoolConfig {
    pub max_threads: u32,
    pub min_threads: u32,
    /// Milliseconds an idle thread above minThreads lives; Infinity for ever.
    pub idle_timeout: f64,
    /// Tasks that may wait beyond the running ones; Infinity for no bound.
    pub max_queue: f64,
    /// Added to each thread's nice value (Linux), 0..=19.
    pub nice_increment: u8,
}

/// A latency histogram in milliseconds.
#[napi(object)]
pub struct Histogram {
    pub count: f64,
    pub sum: f64,
    pub mean: f64,
    pub stddev: f64,
    pub min: f64,
    pub max: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    /// With `bounds`: for each bound (ms), how many durations were at most that long.
    pub buckets: Option<Vec<f64>>,
}

impl Histogram {
    fn new(timing: &Timing, bounds: Option<&[Duration]>) -> Self {
        let s = timing.summary();
        Histogram {
            count: s.count as f64,
            sum: s.sum,
            mean: s.mean,
            stddev: s.stddev,
            min: s.min,
            max: s.max,
            p50: s.p50,
            p90: s.p90,
            p99: s.p99,
            buckets: bounds.map(|bounds| {
                let counts = timing.counts_up_to(bounds);
                counts.into_iter().map(|count| count as f64).collect()
            }),
        }
    }
}

/// One task's times on the threads.
#[napi(object)]
pub struct TaskTimes {
    pub run_time: Histogram,
    pub wait_time: Histogram,
}

/// A task `submit` refused: its place in the batch, and why.
#[napi(object)]
pub struct Rejected {
    pub index: u32,
    pub kind: u8,
    pub message: String,
}

/// The engine and its inbox, shared by `NativePool` and the environment's cleanup hook:
/// a worker_thread's teardown must stop our threads before the memory they read goes away.
struct Core {
    engine: PoolEngine,
    inbox: Arc<Inbox>,
    /// The worker files' jobs and the JS workers that run them.
    js: Arc<JsJobs>,
    /// The key JS workers attach to this pool with.
    pool_key: u32,
    /// The cleanup hook ran: Node has closed the ThreadsafeFunction and the hook is gone.
    torn_down: AtomicBool,
}

/// How far `Core::shut_down` goes before it returns.
#[derive(PartialEq, Eq)]
enum Until {
    /// The work is told to stop; the threads exit later, and `drain` hears of it.
    Told,
    /// The threads have exited and are joined, and the wake-up is let go.
    Ended,
}

impl Core {
    /// The one shut-down path, whichever way in: `close`, `close` with force and `destroy`
    /// from JS (`Until::Told`), and `drain` once the threads are gone, the pool's garbage
    /// collection and the environment's teardown (`Until::Ended`). `how` stops the work (a
    /// stronger stop already under way stands); each step is done once, however often and
    /// in whatever order the ways in come.
    fn shut_down(&self, how: Shutdown, until: Until) {
        self.engine.shut_down(how);
        if how == Shutdown::Destroy {
            // No pool thread may wait for a JS worker that is being terminated.
            self.js.abandon_all();
        }
        if until == Until::Ended {
            self.engine.join();
            self.inbox.release();
        }
    }
}

unsafe extern "C" fn on_env_teardown(data: *mut c_void) {
    // SAFETY: `data` came from Arc::into_raw in `NativePool::new`; Node calls a hook at
    // most once, and `Drop` removes it (and takes the Arc back) only if it has not run.
    let core = unsafe { Arc::from_raw(data as *const Core) };
    core.torn_down.store(true, Ordering::Relaxed);
    // Node closes the wake-up itself as the environment goes.
    core.inbox.forget_wakeup();
    without_unwinding("the environment's teardown", || {
        core.shut_down(Shutdown::Destroy, Until::Ended)
    });
}

/// Runs `f` where no JS caller can receive an error (a cleanup hook, a finalizer): a panic
/// may not unwind into Node, which would abort the process, so it is reported on stderr.
fn without_unwinding(during: &str, f: impl FnOnce()) {
    if let Err(panic) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
        eprintln!(
            "cisterna: a bug during {during}: {}",
            panic_message(&*panic)
        );
    }
}

#[napi]
pub struct NativePool {
    core: Arc<Core>,
    env: sys::napi_env,
    /// Tokens of the jobs that can be aborted or time out, by id, until delivered.
    tokens: HashMap<u32, Arc<CancelToken>>,
    /// References keeping the Buffers a job reads in place alive, by id, until its
    /// result is drained: whatever the user does with them meanwhile.
    kept: HashMap<u32, Vec<sys::napi_ref>>,
    /// Jobs accepted and not yet handed to JS, plus one while a shutdown awaits the
    /// threads' exit. The process is kept alive exactly while this is above zero.
    in_flight: usize,
    shutting_down: bool,
    /// `closeDroppingQueued` was called: a task that never ran was refused by the close.
    queue_dropped: bool,
    /// Jobs `stage` decoded, in order, waiting for their places in the tick's `submit`.
    staged: VecDeque<Job<TaskResult>>,
    referenced: bool,
}

#[napi]
impl NativePool {
    #[napi(constructor, catch_unwind)]
    pub fn new(env: Env, config: PoolConfig, wake: Unknown) -> napi::Result<Self> {
        if wake.get_type()? != ValueType::Function {
            return Err(napi::Error::from_reason("wake must be a function"));
        }
        let inbox = Arc::new(Inbox::new(&env, wake.raw())?);
        let max_threads = config.max_threads.max(1) as usize;
        let engine = Engine::new(
            Config {
                max_threads,
                min_threads: (config.min_threads as usize).min(max_threads),
                // Past what a Duration holds (Infinity) is for ever.
                idle_timeout: Duration::try_from_secs_f64(config.idle_timeout.max(0.0) / 1000.0)
                    .unwrap_or(Duration::MAX),
                max_queue: if config.max_queue.is_finite() {
                    config.max_queue.max(0.0) as usize
                } else {
                    usize::MAX
                },
                nice_increment: config.nice_increment,
            },
            Arc::clone(&inbox),
        );
        let js = Arc::new(JsJobs::new(
            REGISTRY.len(),
            engine.relay(),
            Arc::clone(&inbox),
        ));
        let pool_key = js_workers::register(&js);
        let core = Arc::new(Core {
            engine,
            inbox,
            js,
            pool_key,
            torn_down: AtomicBool::new(false),
        });
        let hook_data = Arc::into_raw(Arc::clone(&core)) as *mut c_void;
        // SAFETY: main thread, live env; the hook owns one Arc until it runs or `Drop`
        // removes it.
        let status =
            unsafe { sys::napi_add_env_cleanup_hook(env.raw(), Some(on_env_teardown), hook_data) };
        if status != sys::Status::napi_ok {
            // SAFETY: the hook was not added, so the Arc is still ours to take back.
            drop(unsafe { Arc::from_raw(hook_data as *const Core) });
            return Err(napi::Error::from_reason(
                "could not register the pool's teardown",
            ));
        }
        Ok(Self {
            core,
            env: env.raw(),
            tokens: HashMap::new(),
            kept: HashMap::new(),
            in_flight: 0,
            shutting_down: false,
            queue_dropped: false,
            staged: VecDeque::new(),
            referenced: false,
        })
    }

    /// Queues the first `data.length` tasks of a batch. `tasks` holds each task's number
    /// in `taskNames()`, or a worker file's function's (`addFunction`), whose data is what
    /// `pack` in `lib/outcome.js` made of it; `flags` holds each task's `TASK_*` bits; `priorities`
    /// and `flags` are null when all are 0; `arena` holds the bytes of `TASK_IN_ARENA` tasks,
    /// one after the other, or is null when there are none.
    // The batch's arrays as JS keeps them, each read in place: an object holding them would
    // cost property reads on every submit.
    #[allow(clippy::too_many_arguments)]
    #[napi(catch_unwind)]
    pub fn submit(
        &mut self,
        env: Env,
        ids: &[u32],
        tasks: &[u32],
        priorities: Option<&[f64]>,
        flags: Option<&[u8]>,
        data: Array,
        arena: Option<&[u8]>,
    ) -> napi::Result<Option<Vec<Rejected>>> {
        let count = data.len() as usize;
        if ids.len() < count || tasks.len() < count {
            return Err(napi::Error::from_reason(
                "submit: batch arrays are too short",
            ));
        }
        let mut rejected = Vec::new();
        let mut jobs = Vec::with_capacity(count);
        let mut payloads = Vec::new();
        let mut arena_read: usize = 0;
        for index in 0..count {
            let id = ids[index];
            let flag = flags.and_then(|f| f.get(index).copied()).unwrap_or(0);
            if flag & TASK_STAGED != 0 {
                // Decoded by `stage` while `run` ran; its place in the batch keeps the order.
                match self.staged.pop_front() {
                    Some(job) if job.id == id => jobs.push(job),
                    _ => rejected.push(reject(
                        index,
                        Failure::new(Kind::TaskFailed, "submit: a staged task is missing"),
                    )),
                }
                continue;
            }
            let priority = priorities
                .and_then(|p| p.get(index).copied())
                .unwrap_or(0.0);
            if flag & TASK_IN_ARENA != 0 {
                let length = data.get::<u32>(index as u32)?.unwrap_or(0) as usize;
                let end = arena_read.saturating_add(length);
                let bytes = arena.and_then(|arena| arena.get(arena_read..end));
                arena_read = end;
                match bytes
                    .and_then(|bytes| self.prepare_bytes(id, tasks[index], flag, priority, bytes))
                {
                    Some(job) => jobs.push(job),
                    None => rejected.push(reject(
                        index,
                        Failure::new(
                            Kind::TaskFailed,
                            "submit: a task's bytes are not in the arena",
                        ),
                    )),
                }
                continue;
            }
            let value = data.get::<Unknown>(index as u32)?;
            match self.prepare(&env, id, tasks[index] as usize, flag, priority, value) {
                Ok((job, payload)) => {
                    payloads.extend(payload.map(|payload| (id, payload)));
                    jobs.push(job);
                }
                Err(failure) => rejected.push(reject(index, failure)),
            }
        }
        if !payloads.is_empty() {
            self.core.js.keep_payloads(payloads);
        }
        let accepted = jobs.len();
        let refused = self.core.engine.submit(jobs);
        // Refusals are rare: only then map ids back to their places in the batch.
        let index_of: HashMap<u32, usize> = if refused.is_empty() {
            HashMap::new()
        } else {
            ids[..count]
                .iter()
                .enumerate()
                .map(|(i, &id)| (id, i))
                .collect()
        };
        for (job, refusal) in &refused {
            self.forget(&env, job.id);
            if self.core.js.is_js(job.label) {
                self.core.js.forget_payload(job.id);
            }
            let failure = match refusal {
                Refusal::QueueFull => Failure::new(
                    Kind::QueueFull,
                    "the pool's queue is full (maxQueue tasks are waiting)",
                ),
                Refusal::Closed => Failure::new(Kind::PoolClosed, "the pool is closed"),
            };
            rejected.push(reject(index_of[&job.id], failure));
        }
        self.in_flight += accepted - refused.len();
        self.update_reference(&env);
        Ok((!rejected.is_empty()).then_some(rejected))
    }

    /// Cancels a task by id (abort or timeout). True if it had not started: it will
    /// never run, and its result arrives as "not run" at the next drain.
    #[napi(catch_unwind)]
    pub fn cancel(&mut self, id: u32) -> bool {
        match self.tokens.remove(&id) {
            Some(token) => self.core.engine.cancel(id, &token) == CancelledWhile::Queued,
            None => false,
        }
    }

    /// Main thread, on each wake-up: the finished tasks as `[values, exited, faults,
    /// workersWanted, threadsLeft]`, the last two the pool threads that need a JS worker
    /// started and those that left (their workers can go), null when none.
    /// Task `i`'s id goes to `ids[i]` and its kind to `kinds[i]`: RESULT_KIND for a result,
    /// PART_KIND for a part of the result of a task still running, PROGRESS_KIND for how far
    /// it is (a number from 0 to 1), and a failure kind (with the
    /// message as `values[i]`) otherwise. The arrays belong to JS and are reused, because
    /// making a typed array costs more than a whole small batch.
    #[napi(catch_unwind)]
    pub fn drain<'env>(
        &mut self,
        env: &'env Env,
        mut ids: Uint32ArraySlice,
        mut kinds: Uint8ArraySlice,
    ) -> napi::Result<Array<'env>> {
        // SAFETY: JS memory, written only here, on the main thread, while no JS runs.
        let (ids, kinds) = unsafe { (ids.as_mut(), kinds.as_mut()) };
        let limit = ids.len().min(kinds.len());
        if limit == 0 {
            return Err(napi::Error::from_reason(
                "drain: the id and kind arrays are empty",
            ));
        }
        let Drained {
            delivered,
            exited,
            faults,
            workers_wanted,
            threads_left,
        } = self.core.inbox.take(limit);
        let count = delivered.len();
        let mut values = env.create_array(count as u32)?;
        let mut ended = 0;
        for (index, (id, delivery)) in delivered.into_iter().enumerate() {
            ids[index] = id;
            let (value, kind_if_ok) = match delivery {
                Delivery::Part(part) => (part.encode(env).map_err(encoding_failed), PART_KIND),
                Delivery::Progress(fraction) => (
                    js::to_js(env, fraction).map_err(encoding_failed),
                    PROGRESS_KIND,
                ),
                Delivery::End(outcome) => {
                    ended += 1;
                    if !self.tokens.is_empty() {
                        self.tokens.remove(&id);
                    }
                    if !self.kept.is_empty() {
                        if let Some(kept) = self.kept.remove(&id) {
                            js::release(env, kept);
                        }
                    }
                    let value = match outcome {
                        Outcome::Finished(Ok(output)) => {
                            output.encode(env).map_err(encoding_failed)
                        }
                        Outcome::Finished(Err(failure)) => Err(failure),
                        Outcome::Panicked(message) => Err(Failure::new(
                            Kind::TaskPanicked,
                            format!("the task panicked: {message}"),
                        )),
                        Outcome::NotRun if self.queue_dropped => Err(Failure::new(
                            Kind::PoolClosed,
                            "the pool was closed with force before the task started",
                        )),
                        Outcome::NotRun => Err(Failure::cancelled()),
                    };
                    (value, RESULT_KIND)
                }
            };
            kinds[index] = match value {
                Ok(raw) => {
                    // SAFETY: `raw` was just made in this env, on this thread, in this scope.
                    let value = unsafe { Unknown::from_raw_unchecked(env.raw(), raw) };
                    values.set(index as u32, value)?;
                    kind_if_ok
                }
                Err(failure) => {
                    values.set(index as u32, failure.message)?;
                    failure.kind as u8
                }
            };
        }
        self.in_flight -= ended;
        if exited {
            // The threads left their loops (a shutdown is under way, so `Close` changes
            // nothing); joining only waits for their last instructions.
            self.core.shut_down(Shutdown::Close, Until::Ended);
            self.in_flight -= 1;
        } else {
            self.update_reference(env);
        }
        let mut batch = env.create_array(5)?;
        batch.set(0, values)?;
        batch.set(1, exited)?;
        batch.set(2, (!faults.is_empty()).then_some(faults))?;
        batch.set(3, (!workers_wanted.is_empty()).then_some(workers_wanted))?;
        batch.set(4, (!threads_left.is_empty()).then_some(threads_left))?;
        Ok(batch)
    }

    /// Takes no more tasks; queued and running ones finish; then the threads exit and
    /// `drain` reports `exited`.
    #[napi(catch_unwind)]
    pub fn close(&mut self, env: Env) {
        self.shut_down(&env, Shutdown::Close);
    }

    /// Takes no more tasks; queued ones are delivered as not run, running ones finish; then
    /// the threads exit and `drain` reports `exited`.
    #[napi(catch_unwind)]
    pub fn close_dropping_queued(&mut self, env: Env) {
        self.queue_dropped = true;
        self.shut_down(&env, Shutdown::CloseDroppingQueued);
    }

    /// Takes no more tasks; queued ones are delivered as not run, running ones cancelled;
    /// staged ones, which JS rejects itself, are dropped.
    #[napi(catch_unwind)]
    pub fn destroy(&mut self, env: Env) {
        for job in std::mem::take(&mut self.staged) {
            self.forget(&env, job.id);
        }
        self.shut_down(&env, Shutdown::Destroy);
    }

    /// The numbers of the live threads, in the order they were started.
    #[napi(getter, catch_unwind)]
    pub fn threads(&self) -> Vec<u32> {
        self.core.engine.threads()
    }

    #[napi(getter, catch_unwind)]
    pub fn queue_size(&self) -> u32 {
        self.core.engine.queue_size() as u32
    }

    #[napi(getter, catch_unwind)]
    pub fn completed(&self) -> f64 {
        self.core.engine.completed() as f64
    }

    #[napi(getter, catch_unwind)]
    pub fn utilization(&self) -> f64 {
        self.core.engine.utilization()
    }

    /// Every task's times together.
    #[napi(catch_unwind)]
    pub fn times(&self) -> TaskTimes {
        task_times(&self.core.engine.times(), None)
    }

    /// Each task's times, in the order of `taskNames()`, then each worker file function's
    /// in the order `addFunction` made them known; with `bounds_ms`, each histogram
    /// also counts the durations up to each bound.
    #[napi(catch_unwind)]
    pub fn times_by_task(&self, bounds_ms: Option<Vec<f64>>) -> Vec<TaskTimes> {
        let bounds: Option<Vec<Duration>> = bounds_ms.map(|bounds| {
            bounds
                .iter()
                .map(|&ms| Duration::try_from_secs_f64(ms / 1e3).unwrap_or(Duration::MAX))
                .collect()
        });
        let mut by_label = self.core.engine.times_by_label();
        by_label.resize_with(
            REGISTRY.len() + self.core.js.function_count(),
            LabelTimes::default,
        );
        by_label
            .iter()
            .map(|times| task_times(times, bounds.as_deref()))
            .collect()
    }

    /// Decodes an object's data while `run` runs, so that the caller may change it once `run`
    /// returns; the job waits for the tick's `submit`, where a `TASK_STAGED` entry takes its
    /// place, so that objects are queued in batches too. A failure to decode is returned.
    #[napi(catch_unwind)]
    pub fn stage(
        &mut self,
        env: Env,
        id: u32,
        task: u32,
        flags: u8,
        priority: f64,
        data: Unknown,
    ) -> Option<Rejected> {
        match self.prepare(&env, id, task as usize, flags, priority, Some(data)) {
            Ok((job, None)) => {
                self.staged.push_back(job);
                None
            }
            Ok((job, Some(_))) => {
                self.forget(&env, job.id);
                Some(reject(
                    0,
                    Failure::invalid_type("a worker file's task is not staged"),
                ))
            }
            Err(failure) => Some(reject(0, failure)),
        }
    }

    /// One task's data, decoded into a job (and, for a worker file's task, its packed data):
    /// the references that keep handed-over memory and the cancel token are kept by id.
    fn prepare(
        &mut self,
        env: &Env,
        id: u32,
        label: usize,
        flag: u8,
        priority: f64,
        value: Option<Unknown>,
    ) -> Result<(Job<TaskResult>, Option<Payload>), Failure> {
        let mut decoder = Decoder::new(env, flag & TASK_HANDED_OVER != 0);
        let function_labels = REGISTRY.len()..REGISTRY.len() + self.core.js.function_count();
        let (work, payload) = match (REGISTRY.get(label), value) {
            (None, Some(value)) if function_labels.contains(&label) => {
                let (work, payload) = self.prepare_js(&mut decoder, value, id, label, flag)?;
                (work, Some(payload))
            }
            (Some(task), Some(value)) => {
                let line = JobLine::new(
                    id,
                    Arc::clone(&self.core.inbox),
                    flag & TASK_REPORTS_PROGRESS != 0,
                );
                ((task.prepare)(&mut decoder, value, line)?, None)
            }
            _ => return Err(Failure::invalid_type("no task has that number")),
        };
        let kept = decoder.take_kept();
        if !kept.is_empty() {
            self.kept.insert(id, kept);
        }
        Ok((self.job(id, label, flag, priority, work), payload))
    }

    /// A task of bare bytes from the batch's arena, as a job: None when its task reads none.
    fn prepare_bytes(
        &mut self,
        id: u32,
        label: u32,
        flag: u8,
        priority: f64,
        bytes: &[u8],
    ) -> Option<Job<TaskResult>> {
        let task = REGISTRY.get(label as usize)?;
        let line = JobLine::new(
            id,
            Arc::clone(&self.core.inbox),
            flag & TASK_REPORTS_PROGRESS != 0,
        );
        let work = (task.prepare_bytes)(Owned::copy_of(bytes), line)?;
        Some(self.job(id, label as usize, flag, priority, work))
    }

    /// The engine's job for a task's work, with a cancel token kept by id when it can be cancelled.
    fn job(
        &mut self,
        id: u32,
        label: usize,
        flag: u8,
        priority: f64,
        work: Work<TaskResult>,
    ) -> Job<TaskResult> {
        let token = (flag & TASK_CANCELLABLE != 0).then(|| {
            let token = Arc::new(CancelToken::new());
            self.tokens.insert(id, Arc::clone(&token));
            token
        });
        Job {
            id,
            priority,
            token,
            label,
            work,
        }
    }

    /// Lets go of what was kept for a task that will not be queued.
    fn forget(&mut self, env: &Env, id: u32) {
        self.tokens.remove(&id);
        if let Some(kept) = self.kept.remove(&id) {
            js::release(env, kept);
        }
    }

    /// A worker file's job: its packed data kept for the worker, and work that hands it
    /// to the JS worker of the pool thread that takes it.
    fn prepare_js(
        &self,
        decoder: &mut Decoder,
        value: Unknown,
        id: u32,
        label: usize,
        flags: u8,
    ) -> Result<(Work<TaskResult>, Payload), Failure> {
        let payload = Payload {
            data: Packed::from_js(decoder, &value)?,
            flags,
        };
        let js = Arc::downgrade(&self.core.js);
        let work: Work<TaskResult> = Box::new(move |ctx: &Ctx| {
            match js.upgrade() {
                Some(js) => {
                    js.run_on_thread(ctx, Relayed::running(id, label));
                    // Dropped: the job ends through the relay.
                    Err(Failure::cancelled())
                }
                None => Err(Failure::new(Kind::PoolClosed, "the pool is gone")),
            }
        });
        Ok((work, payload))
    }

    /// Makes a worker file's function known: the number `submit` runs it by.
    #[napi(catch_unwind)]
    pub fn add_function(&self, filename: String, name: String) -> u32 {
        self.core.js.add_function(filename, name) as u32
    }

    /// The key a JS worker attaches to this pool with.
    #[napi(getter, catch_unwind)]
    pub fn pool_key(&self) -> u32 {
        self.core.pool_key
    }

    /// The JS worker of pool thread `thread` is gone: its jobs fail with `message`
    /// (ERR_WORKER_EXITED). The id of the job it was running, if any.
    #[napi(catch_unwind)]
    pub fn worker_gone(&self, thread: u32, message: String) -> Option<u32> {
        self.core
            .js
            .worker_gone(thread, Failure::new(Kind::WorkerExited, message))
    }

    /// The pool thread whose JS worker runs job `id`, if one does.
    #[napi(catch_unwind)]
    pub fn thread_running(&self, id: u32) -> Option<u32> {
        self.core.js.thread_running(id)
    }

    /// A shutdown from JS: the process is kept alive until `drain` sees the threads gone.
    fn shut_down(&mut self, env: &Env, how: Shutdown) {
        if !std::mem::replace(&mut self.shutting_down, true) {
            self.in_flight += 1;
            self.update_reference(env);
        }
        self.core.shut_down(how, Until::Told);
    }

    fn update_reference(&mut self, env: &Env) {
        let wanted = self.in_flight > 0;
        if wanted != self.referenced {
            self.referenced = wanted;
            self.core.inbox.set_referenced(env, wanted);
        }
    }
}

/// A JS value that could not be made: the task's result is lost, so the task failed.
fn encoding_failed(error: napi::Error) -> Failure {
    Failure::new(Kind::TaskFailed, error.reason)
}

fn task_times(times: &LabelTimes, bounds: Option<&[Duration]>) -> TaskTimes {
    TaskTimes {
        run_time: Histogram::new(&times.run, bounds),
        wait_time: Histogram::new(&times.wait, bounds),
    }
}

fn reject(index: usize, failure: Failure) -> Rejected {
    Rejected {
        index: index as u32,
        kind: failure.kind as u8,
        message: failure.message,
    }
}

impl Drop for NativePool {
    /// The JS object was collected (possible only once the ThreadsafeFunction, which holds
    /// the JS callback, was released after exit) or the environment is being torn down.
    fn drop(&mut self) {
        if self.core.torn_down.load(Ordering::Relaxed) {
            return;
        }
        without_unwinding("the pool's garbage collection", || {
            self.core.shut_down(Shutdown::Destroy, Until::Ended)
        });
        let hook_data = Arc::as_ptr(&self.core) as *mut c_void;
        // SAFETY: the hook has not run (flag above), so it is registered with this
        // data; removing it gives us back the Arc it owned. Finalizers run on the main
        // thread with the env alive.
        unsafe {
            if sys::napi_remove_env_cleanup_hook(self.env, Some(on_env_teardown), hook_data)
                == sys::Status::napi_ok
            {
                drop(Arc::from_raw(hook_data as *const Core));
            }
        }
    }
}

/// The names of the tasks this build knows, in the order `submit` numbers them.
#[napi(catch_unwind)]
pub fn task_names() -> Vec<&'static str> {
    REGISTRY.iter().map(|task| task.name).collect()
}

/// Per task, in the order of `taskNames()`: the name of the `lib/builders.js` builder that
/// makes its result in JS, or null when its output is its result.
#[napi(catch_unwind)]
pub fn result_builders() -> Vec<Option<&'static str>> {
    REGISTRY.iter().map(|task| task.result_builder).collect()
}

/// Per task, in the order of `taskNames()`: whether its data may be bare bytes that JS
/// copies into the batch's arena (`TASK_IN_ARENA`).
#[napi(catch_unwind)]
pub fn tasks_reading_bytes() -> Vec<bool> {
    REGISTRY.iter().map(|task| task.reads_bytes).collect()
}

/// A failure kind as JS makes its error.
#[napi(object, object_from_js = false)]
pub struct FailureKind {
    pub code: &'static str,
    /// `Error`, `TypeError` or `RangeError`.
    pub class_name: &'static str,
}

/// The failure kinds by number, from 1: `lib/errors.js` makes each kind's error from them.
#[napi(catch_unwind)]
pub fn failure_kinds() -> Vec<FailureKind> {
    Kind::ALL
        .iter()
        .map(|kind| FailureKind {
            code: kind.code(),
            class_name: kind.class(),
        })
        .collect()
}
