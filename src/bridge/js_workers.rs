//! Worker files: the user's JS functions, queued with the native tasks in the one engine
//! and run on JS worker threads (`lib/worker.js`), one per pool thread that needs one.
//!
//! A pool thread that takes a JS job hands it to its worker and waits, still counted as
//! running, so JS and native jobs together never pass `maxThreads`. The worker runs the
//! job and, in the same native call that finishes it, takes the next queued JS job itself
//! (`Relay::take_next`): a stream of small JS tasks costs no thread wake-up per task. When
//! the best queued job is native, or none is left, the worker gives the thread back.

use super::inbox::Inbox;
use super::wakeup::{Finalize, Wakeup};
use crate::error::{Failure, Kind};
use crate::js::{self, args, Decoder};
use crate::pool::{Ctx, Outcome, Relay, Relayed, SPIN_BEFORE_SLEEP};
use crate::tasks::{Encode, TaskResult};
use napi::bindgen_prelude::{BufferSlice, Either, Uint32ArraySlice, Unknown};
use napi::{sys, Env, JsValue, ValueType};
use napi_derive::napi;
use parking_lot::{Condvar, Mutex, MutexGuard};
use rustc_hash::FxHashMap;
use std::ffi::c_void;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Weak};
use std::time::Instant;

/// A task's data or a function's result as it crosses between JS threads (`pack` in
/// `lib/outcome.js`): JSON text where that carries the value exactly, else bytes of V8's
/// serializer (for a result, framed with what it is: a value, a thrown error, or word that
/// it comes through the worker's port).
pub enum Packed {
    Json(String),
    Serialized(Vec<u8>),
}

impl Packed {
    /// From JS: a string is JSON text, binary data is serialized.
    pub fn from_js(decoder: &mut Decoder, value: &Unknown) -> Result<Self, Failure> {
        if args::type_of(value) == ValueType::String {
            return args::string(value, "packed data").map(Packed::Json);
        }
        let bytes = decoder.required_bytes(value, "packed data")?;
        Ok(Packed::Serialized(bytes.as_slice().to_vec()))
    }

    /// As a JS string or Buffer of the current environment; a copy, not an external
    /// Buffer, which would cost each small task a finalizer, dearer than the copy.
    fn to_js(&self, env: &Env) -> napi::Result<sys::napi_value> {
        match self {
            Packed::Json(text) => js::to_js(env, text.as_str()),
            Packed::Serialized(bytes) => js::to_js(env, BufferSlice::copy_from(env, bytes)?),
        }
    }
}

impl Encode for Packed {
    fn encode(self: Box<Self>, env: &Env) -> napi::Result<sys::napi_value> {
        self.to_js(env)
    }
}

/// A JS job's packed data and its `submit` flags.
pub struct Payload {
    pub data: Packed,
    pub flags: u8,
}

/// The JS side of one pool: its jobs' data until a worker takes them, its workers by pool
/// thread, and the worker files' functions by label.
pub struct JsJobs {
    /// Labels from here up are JS functions (`add_function`); below are the native tasks.
    first_label: usize,
    functions: Mutex<Vec<(String, String)>>,
    payloads: Mutex<FxHashMap<u32, Payload>>,
    slots: Mutex<FxHashMap<u32, Arc<Slot>>>,
    relay: Relay<TaskResult, Arc<Inbox>>,
    inbox: Arc<Inbox>,
}

/// How a pool thread's JS worker stands.
enum Worker {
    /// Asked of the main thread; not attached yet.
    Starting,
    Attached(Wakeup),
    /// Exited, terminated or never started: jobs handed to it fail with this.
    Gone(Failure),
}

/// One pool thread's JS worker, and the job between them.
struct Slot {
    state: Mutex<SlotState>,
    /// A lock-free copy of `handed.is_some()`, for a worker waiting for its next job.
    handed_hint: AtomicBool,
    /// Signalled when the worker attaches or goes, and when it gives the thread back.
    changed: Condvar,
}

struct SlotState {
    worker: Worker,
    /// Handed over by the pool thread, not yet taken by the worker.
    handed: Option<Relayed>,
    /// Taken by the worker and running.
    running: Option<Relayed>,
    /// The pool thread waits for the worker to give it back.
    lent: bool,
}

impl JsJobs {
    pub fn new(
        first_label: usize,
        relay: Relay<TaskResult, Arc<Inbox>>,
        inbox: Arc<Inbox>,
    ) -> Self {
        JsJobs {
            first_label,
            functions: Mutex::new(Vec::new()),
            payloads: Mutex::new(FxHashMap::default()),
            slots: Mutex::new(FxHashMap::default()),
            relay,
            inbox,
        }
    }

    pub fn is_js(&self, label: usize) -> bool {
        label >= self.first_label
    }

    /// The label of the function `name` of the worker file `filename`, known from now on.
    pub fn add_function(&self, filename: String, name: String) -> usize {
        let mut functions = self.functions.lock();
        functions.push((filename, name));
        self.first_label + functions.len() - 1
    }

    pub fn function_count(&self) -> usize {
        self.functions.lock().len()
    }

    /// Main thread: the data of jobs about to be queued.
    pub fn keep_payloads(&self, payloads: Vec<(u32, Payload)>) {
        self.payloads.lock().extend(payloads);
    }

    /// Main thread: the data of a job refused by the engine.
    pub fn forget_payload(&self, id: u32) {
        self.payloads.lock().remove(&id);
    }

    /// On pool thread `ctx.thread()`, as its job: hands `job` to the thread's JS worker
    /// (asking for one first if the thread has none) and waits until the worker gives the
    /// thread back. The job and any the worker takes after it end through the relay.
    pub fn run_on_thread(&self, ctx: &Ctx, job: Relayed) {
        ctx.relay();
        let slot = self.slot(ctx.thread());
        let mut state = slot.state.lock();
        loop {
            match &state.worker {
                Worker::Starting => slot.changed.wait(&mut state),
                Worker::Gone(failure) => {
                    let failure = failure.clone();
                    drop(state);
                    self.fail(job, failure);
                    return;
                }
                // Aborted, timed out or destroyed while the worker started: it never runs.
                Worker::Attached(_) if ctx.cancelled() => {
                    drop(state);
                    self.fail(job, Failure::cancelled());
                    return;
                }
                Worker::Attached(wakeup) => {
                    let wakeup = *wakeup;
                    state.handed = Some(job);
                    slot.handed_hint.store(true, Ordering::Release);
                    state.lent = true;
                    // SAFETY: an attached worker's function is alive: its finalizer marks
                    // the worker gone under this lock before Node frees it.
                    unsafe { wakeup.call() };
                    break;
                }
            }
        }
        while state.lent {
            slot.changed.wait(&mut state);
        }
    }

    /// The slot of pool thread `number`, made (and its worker asked for) if it has none.
    fn slot(&self, number: u32) -> Arc<Slot> {
        let mut slots = self.slots.lock();
        if let Some(slot) = slots.get(&number) {
            return Arc::clone(slot);
        }
        let slot = Arc::new(Slot {
            state: Mutex::new(SlotState {
                worker: Worker::Starting,
                handed: None,
                running: None,
                lent: false,
            }),
            changed: Condvar::new(),
            handed_hint: AtomicBool::new(false),
        });
        slots.insert(number, Arc::clone(&slot));
        drop(slots);
        self.inbox.want_worker(number);
        slot
    }

    fn fail(&self, job: Relayed, failure: Failure) {
        self.payloads.lock().remove(&job.id);
        self.relay.finish(job, Outcome::Finished(Err(failure)));
    }

    /// The worker of pool thread `number` is gone (exited, crashed, terminated, or could not
    /// start): the jobs it had fail with `failure`, its thread goes on, and the thread's
    /// next JS job asks for a new worker. The id of the job it was running, if any.
    pub fn worker_gone(&self, number: u32, failure: Failure) -> Option<u32> {
        let slot = self.slots.lock().remove(&number)?;
        let mut state = slot.state.lock();
        state.worker = Worker::Gone(failure.clone());
        let running = state.running.take();
        let running_id = running.as_ref().map(|job| job.id);
        let ended: Vec<Relayed> = running.into_iter().chain(state.handed.take()).collect();
        state.lent = false;
        slot.changed.notify_all();
        drop(state);
        for job in ended {
            self.fail(job, failure.clone());
        }
        running_id
    }

    /// Every worker is given up on (the pool is destroyed): no pool thread waits for one.
    pub fn abandon_all(&self) {
        let numbers: Vec<u32> = self.slots.lock().keys().copied().collect();
        for number in numbers {
            self.worker_gone(
                number,
                Failure::new(Kind::PoolClosed, "the pool was destroyed"),
            );
        }
    }

    /// Whether some worker holds its pool thread (runs a job, or takes the next).
    fn any_worker_busy(&self) -> bool {
        let slots = self.slots.lock();
        slots.values().any(|slot| slot.state.lock().lent)
    }

    /// The pool thread whose worker is running job `id`, if one is.
    pub fn thread_running(&self, id: u32) -> Option<u32> {
        let slots = self.slots.lock();
        slots.iter().find_map(|(&number, slot)| {
            let state = slot.state.lock();
            let runs = |job: &Option<Relayed>| job.as_ref().is_some_and(|job| job.id == id);
            (runs(&state.running) || runs(&state.handed)).then_some(number)
        })
    }

    /// Worker thread: the job to run next, moved from `handed` or taken from the queue,
    /// with its data; None (and the pool thread given back) when there is none for it.
    fn start_next<'env>(
        &self,
        env: &'env Env,
        slot: &Slot,
        state: &mut SlotState,
        meta: &mut [u32],
    ) -> napi::Result<Option<Unknown<'env>>> {
        loop {
            let job = match state.handed.take() {
                Some(job) => {
                    slot.handed_hint.store(false, Ordering::Relaxed);
                    job
                }
                None if state.lent => match self.relay.take_next(|label| self.is_js(label)) {
                    Some(job) => job,
                    None => break,
                },
                None => return Ok(None),
            };
            let Some(payload) = self.payloads.lock().remove(&job.id) else {
                // Only a bug could lose it; the job fails rather than hangs.
                self.fail(
                    job,
                    Failure::new(Kind::TaskFailed, "the task's data was lost"),
                );
                continue;
            };
            meta[0] = job.id;
            meta[1] = job.label as u32;
            meta[2] = u32::from(payload.flags);
            state.running = Some(job);
            let data = payload.data.to_js(env)?;
            // SAFETY: made just now in this env, on this thread, in this call's scope.
            return Ok(Some(unsafe {
                Unknown::from_raw_unchecked(env.raw(), data)
            }));
        }
        state.lent = false;
        slot.changed.notify_all();
        Ok(None)
    }
}

/// The pools that have JS jobs, by key, for their workers to attach to.
static POOLS: Mutex<Vec<(u32, Weak<JsJobs>)>> = Mutex::new(Vec::new());
static NEXT_POOL_KEY: AtomicU32 = AtomicU32::new(1);

/// Registers a pool's JS side; its key goes to its workers in `workerData`.
pub fn register(jobs: &Arc<JsJobs>) -> u32 {
    let key = NEXT_POOL_KEY.fetch_add(1, Ordering::Relaxed);
    let mut pools = POOLS.lock();
    pools.retain(|(_, pool)| pool.strong_count() > 0);
    pools.push((key, Arc::downgrade(jobs)));
    key
}

fn find_pool(key: u32) -> Option<Arc<JsJobs>> {
    POOLS
        .lock()
        .iter()
        .find(|(k, _)| *k == key)
        .and_then(|(_, pool)| pool.upgrade())
}

/// Node destroyed a worker's wake-up (the worker's environment is going): the slot must
/// not call it again.
unsafe extern "C" fn on_wakeup_destroyed(
    _env: sys::napi_env,
    data: *mut c_void,
    _hint: *mut c_void,
) {
    // SAFETY: `data` came from Arc::into_raw in `JsWorker::attach`; Node calls this once.
    let slot = unsafe { Arc::from_raw(data as *const Slot) };
    let mut state = slot.state.lock();
    if matches!(state.worker, Worker::Attached(_)) {
        state.worker = Worker::Gone(Failure::new(Kind::WorkerExited, "the worker exited"));
        slot.changed.notify_all();
    }
}

/// A JS worker's end of its pool thread (made in `lib/worker.js`).
#[napi]
pub struct JsWorker {
    slot: Arc<Slot>,
    jobs: Weak<JsJobs>,
}

#[napi]
impl JsWorker {
    /// Worker thread: attaches to pool thread `thread` of the pool `pool_key`; `wake` is
    /// called whenever a job is handed over.
    #[napi(factory, catch_unwind)]
    pub fn attach(env: Env, pool_key: u32, thread: u32, wake: Unknown) -> napi::Result<Self> {
        if wake.get_type()? != ValueType::Function {
            return Err(napi::Error::from_reason("wake must be a function"));
        }
        let jobs = find_pool(pool_key)
            .ok_or_else(|| napi::Error::from_reason("the worker's pool is gone"))?;
        let slot = jobs
            .slots
            .lock()
            .get(&thread)
            .cloned()
            .ok_or_else(|| napi::Error::from_reason("no pool thread waits for this worker"))?;
        let mut state = slot.state.lock();
        if !matches!(state.worker, Worker::Starting) {
            return Err(napi::Error::from_reason("the pool thread has a worker"));
        }
        let data = Arc::into_raw(Arc::clone(&slot)) as *mut c_void;
        let finalize: Finalize = (Some(on_wakeup_destroyed), data);
        // Referenced: the worker's event loop lives while it can be handed jobs.
        match Wakeup::new(&env, wake.raw(), true, Some(finalize)) {
            Ok(wakeup) => state.worker = Worker::Attached(wakeup),
            Err(error) => {
                // SAFETY: not made, so Node will not call the finalizer: the Arc is ours.
                drop(unsafe { Arc::from_raw(data as *const Slot) });
                return Err(error);
            }
        }
        slot.changed.notify_all();
        drop(state);
        Ok(JsWorker {
            slot,
            jobs: Arc::downgrade(&jobs),
        })
    }

    /// The worker file and export name of a function's label: `[filename, name]`.
    #[napi(catch_unwind)]
    pub fn function(&self, label: u32) -> Option<Vec<String>> {
        let jobs = self.jobs.upgrade()?;
        let index = (label as usize).checked_sub(jobs.first_label)?;
        let functions = jobs.functions.lock();
        functions
            .get(index)
            .map(|(filename, name)| vec![filename.clone(), name.clone()])
    }

    /// The job handed over, as its packed data, with `[id, label, flags]` in `meta`;
    /// null when there is none (a late wake-up).
    #[napi(catch_unwind)]
    pub fn take<'env>(
        &self,
        env: &'env Env,
        mut meta: Uint32ArraySlice,
    ) -> napi::Result<Option<Unknown<'env>>> {
        let Some((jobs, mut state, meta)) = self.locked(&mut meta) else {
            return Ok(None);
        };
        if state.running.is_some() {
            return Ok(None);
        }
        jobs.start_next(env, &self.slot, &mut state, meta)
    }

    /// What `take` and `complete` start from: the pool's JS side, this worker's slot locked,
    /// and `meta` to write; None when the pool is gone or `meta` is too short.
    fn locked<'a>(
        &'a self,
        meta: &'a mut Uint32ArraySlice,
    ) -> Option<(Arc<JsJobs>, MutexGuard<'a, SlotState>, &'a mut [u32])> {
        let jobs = self.jobs.upgrade()?;
        // SAFETY: JS memory, written only here, on this worker's thread, while no JS runs.
        let meta = unsafe { meta.as_mut() };
        (meta.len() >= 3).then(|| (jobs, self.slot.state.lock(), meta))
    }

    /// Ends the running job with its packed outcome, then takes the next JS job as `take`
    /// does; null when the pool thread is given back.
    #[napi(catch_unwind)]
    pub fn complete<'env>(
        &self,
        env: &'env Env,
        outcome: Either<String, &[u8]>,
        mut meta: Uint32ArraySlice,
    ) -> napi::Result<Option<Unknown<'env>>> {
        let Some((jobs, mut state, meta)) = self.locked(&mut meta) else {
            return Ok(None);
        };
        // None: the job was given up on (the worker was abandoned with its pool).
        let Some(job) = state.running.take() else {
            return Ok(None);
        };
        let outcome = match outcome {
            Either::A(text) => Packed::Json(text),
            Either::B(bytes) => Packed::Serialized(bytes.to_vec()),
        };
        let result: TaskResult = Ok(Box::new(outcome));
        jobs.relay.finish(job, Outcome::Finished(result));
        let next = jobs.start_next(env, &self.slot, &mut state, meta)?;
        drop(state);
        // Only while no other worker runs: polling beside one would slow it on a busy CPU.
        if std::env::var_os("CISTERNA_DEBUG").is_some() {
            eprintln!("busy={} next={}", jobs.any_worker_busy(), next.is_some());
        }
        if next.is_some() || jobs.any_worker_busy() || !self.slot.await_handoff() {
            return Ok(next);
        }
        let mut state = self.slot.state.lock();
        jobs.start_next(env, &self.slot, &mut state, meta)
    }
}

impl Slot {
    /// A worker out of jobs polls for the next one a moment, as the pool's threads do
    /// (`SPIN_BEFORE_SLEEP`), before it goes back to its event loop: a task that comes
    /// within it starts without the worker's wake-up, which on a virtual machine is the
    /// slowest step of a round trip. True if a job was handed over meanwhile.
    fn await_handoff(&self) -> bool {
        let until = Instant::now() + SPIN_BEFORE_SLEEP;
        while Instant::now() < until {
            if self.handed_hint.load(Ordering::Acquire) {
                return true;
            }
            std::thread::yield_now();
        }
        false
    }
}
