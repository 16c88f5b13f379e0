'use strict'
// The public face of cisterna: a Piscina-like Pool whose workers are native threads.
// The Promises are made here; `run` calls are batched per microtask into one native
// `submit`, and results come back many per wake-up through `drain()`.

const { EventEmitter } = require('node:events')
const os = require('node:os')
const path = require('node:path')
const { performance } = require('node:perf_hooks')
const workerThreads = require('node:worker_threads')
const errors = require('./lib/errors.js')
const BUILDERS = require('./lib/builders.js')
const outcome = require('./lib/outcome.js')
const { JsWorkers } = require('./lib/workers.js')
const { version } = require('./package.json')
const { isMarkedAsUntransferable } = workerThreads
const {
  NativePool,
  taskNames,
  resultBuilders,
  tasksReadingBytes,
  PART_KIND,
  PROGRESS_KIND,
  RESULT_KIND,
  DRAIN_CAPACITY,
  TASK_CANCELLABLE,
  TASK_HANDED_OVER,
  TASK_REPORTS_PROGRESS,
  TASK_DATA_BY_PORT,
  TASK_STAGED,
  TASK_IN_ARENA,
} = require('./lib/native.js')

/** Inside a JS worker of a pool: what its worker files see of `require('cisterna')`. */
const inWorker = !workerThreads.isMainThread && workerThreads.workerData?.cisterna !== undefined

const TASKS = Object.freeze(taskNames())
const TASK_NUMBER = new Map(TASKS.map((name, number) => [name, number]))
/**
 * By task number, the builder of a result made in JS, where making many small values is
 * cheapest, from the parts the task sends ahead (`add(part)`) and its output
 * (`finish(output)`); the native side says which task uses which.
 */
const RESULT_BUILDERS = resultBuilders().map((builder) => (builder == null ? undefined : BUILDERS[builder]))

/** By task number, whether its data may be bare bytes, which a batch carries in its arena. */
const READS_BYTES = tasksReadingBytes()

/** Ids wrap below 2³⁰ so they stay small integers in V8. */
const MAX_ID = 0x3fffffff
/** A batch this large is submitted at once, so threads start before the loop that fills it ends. */
const BATCH_CAPACITY = 4096
/**
 * A Buffer up to this size, as a task's bare bytes, is copied into the batch's arena of
 * ARENA_BYTES and queued with the batch: no native call of its own. A larger one is copied
 * natively within `run`, where the copy costs more than the call.
 */
const ARENA_TASK_BYTES = 4096
const ARENA_BYTES = 1024 * 1024
/** The data of a worker file's task whose data goes through the port. */
const EMPTY_PAYLOAD = Buffer.alloc(0)
/** setTimeout's limit; a longer timeout is as good as none. */
const MAX_TIMER_MS = 2 ** 31 - 1

const asyncDispose = Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose')

/** The defaults, as Piscina has them where it has them. */
function defaultOptions() {
  const parallelism = os.availableParallelism()
  return {
    maxThreads: parallelism,
    minThreads: Math.max(Math.floor(parallelism / 2), 1),
    idleTimeout: 30_000,
    maxQueue: Infinity,
    niceIncrement: 0,
  }
}

function isCount(value, min) {
  return Number.isInteger(value) && value >= min
}

/**
 * Piscina's options that have no meaning here, each refused with why, so that none is
 * accepted and silently ignored. A value that asks for what cisterna does anyway passes.
 */
const REFUSED_OPTIONS = {
  concurrentTasksPerWorker: [1, 'a worker runs one task at a time, as maxThreads budgets them'],
  atomics: ['disabled', 'tasks reach workers through the native engine, not through Atomics'],
  useAtomics: [false, 'tasks reach workers through the native engine, not through Atomics'],
  recordTiming: [true, 'run and wait times are always recorded, on the native threads'],
  taskQueue: [undefined, 'the queue is the native engine’s priority queue (use `priority`)'],
  loadBalancer: [undefined, 'the native engine hands each task to the first free thread'],
  workerHistogram: [undefined, 'per-worker histograms are not kept; stats() has them per task'],
  closeTimeout: [undefined, 'close() waits for running tasks; destroy() stops them'],
}

const OPTION_NAMES = [
  'maxThreads',
  'minThreads',
  'idleTimeout',
  'maxQueue',
  'niceIncrement',
  'filename',
  'name',
  'workerData',
  'env',
  'argv',
  'execArgv',
  'resourceLimits',
  'trackUnmanagedFds',
  ...Object.keys(REFUSED_OPTIONS),
]

/** The caller's own options only: a polluted Object.prototype must not add any. */
function ownOptions(options) {
  const own = Object.create(null)
  for (const key of OPTION_NAMES) {
    if (Object.hasOwn(options, key)) own[key] = options[key]
  }
  return own
}

/** A worker file as `import()` takes it: a file: URL string; null for none. */
function workerFileUrl(filename, where) {
  if (filename === undefined || filename === null) return null
  if (filename instanceof URL) filename = filename.href
  if (typeof filename !== 'string' || filename.length === 0) {
    throw errors.invalidType(`${where}: filename must be an absolute path or a file: URL, got ${String(filename)}`)
  }
  if (filename.startsWith('file:')) return filename
  if (!path.isAbsolute(filename)) {
    throw errors.invalidType(`${where}: filename must be an absolute path or a file: URL, got ${filename}`)
  }
  return require('node:url').pathToFileURL(filename).href
}

function isPlainRecord(value) {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function isStringList(value) {
  return Array.isArray(value) && value.every((item) => typeof item === 'string')
}

/** One merge of the user's options over the defaults, validated; throws ERR_INVALID_ARG. */
function normalizeOptions(options) {
  if (options === undefined) options = {}
  else if (typeof options === 'number') options = { maxThreads: options }
  else if (typeof options !== 'object' || options === null) {
    throw errors.invalidType('new Pool(options): options must be a thread count or an object')
  }
  options = ownOptions(options)
  const defaults = defaultOptions()
  const { maxThreads, minThreads, idleTimeout, maxQueue, niceIncrement } = options
  if (maxThreads !== undefined && !isCount(maxThreads, 1)) {
    throw errors.outOfRange(`maxThreads must be an integer ≥ 1, got ${String(maxThreads)}`)
  }
  if (minThreads !== undefined && !isCount(minThreads, 0)) {
    throw errors.outOfRange(`minThreads must be an integer ≥ 0, got ${String(minThreads)}`)
  }
  if (maxThreads !== undefined && minThreads !== undefined && minThreads > maxThreads) {
    throw errors.outOfRange(`minThreads (${minThreads}) must not exceed maxThreads (${maxThreads})`)
  }
  if (idleTimeout !== undefined && !(typeof idleTimeout === 'number' && idleTimeout >= 0)) {
    throw errors.outOfRange(`idleTimeout must be a number of ms ≥ 0, got ${String(idleTimeout)}`)
  }
  if (maxQueue !== undefined && maxQueue !== 'auto' && maxQueue !== Infinity && !isCount(maxQueue, 0)) {
    throw errors.outOfRange(`maxQueue must be an integer ≥ 0, 'auto' or Infinity, got ${String(maxQueue)}`)
  }
  if (niceIncrement !== undefined && !(isCount(niceIncrement, 0) && niceIncrement <= 19)) {
    throw errors.outOfRange(`niceIncrement must be an integer from 0 to 19, got ${String(niceIncrement)}`)
  }
  for (const [option, [allowed, why]] of Object.entries(REFUSED_OPTIONS)) {
    if (options[option] !== undefined && options[option] !== allowed) {
      throw errors.invalidType(`the ${option} option is not supported: ${why}`)
    }
  }
  if (options.name !== undefined && typeof options.name !== 'string') {
    throw errors.invalidType(`name must be the name of a worker file's export, got ${String(options.name)}`)
  }
  if (options.env !== undefined && !isPlainRecord(options.env) && options.env !== workerThreads.SHARE_ENV) {
    throw errors.invalidType('env must be an object of variables, or worker_threads.SHARE_ENV')
  }
  for (const list of ['argv', 'execArgv']) {
    if (options[list] !== undefined && !isStringList(options[list])) {
      throw errors.invalidType(`${list} must be an array of strings`)
    }
  }
  if (options.resourceLimits !== undefined && !isPlainRecord(options.resourceLimits)) {
    throw errors.invalidType('resourceLimits must be an object, as worker_threads takes it')
  }
  if (options.trackUnmanagedFds !== undefined && typeof options.trackUnmanagedFds !== 'boolean') {
    throw errors.invalidType('trackUnmanagedFds must be a boolean')
  }
  const max = maxThreads ?? Math.max(defaults.maxThreads, minThreads ?? 0)
  const min = minThreads ?? Math.min(defaults.minThreads, max)
  // A record with no prototype: what the pool runs with, and nothing inherited.
  return Object.freeze(
    Object.assign(Object.create(null), {
      maxThreads: max,
      minThreads: min,
      idleTimeout: idleTimeout ?? defaults.idleTimeout,
      maxQueue: maxQueue === 'auto' ? max * max : (maxQueue ?? defaults.maxQueue),
      niceIncrement: niceIncrement ?? defaults.niceIncrement,
      filename: workerFileUrl(options.filename, 'new Pool(options)'),
      name: options.name ?? 'default',
      workerData: options.workerData,
      env: options.env,
      argv: options.argv,
      execArgv: options.execArgv,
      resourceLimits: options.resourceLimits,
      trackUnmanagedFds: options.trackUnmanagedFds ?? true,
    }),
  )
}

function isAbortSignal(value) {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof value.aborted === 'boolean' &&
    typeof value.addEventListener === 'function'
  )
}

/**
 * A task from `run` until its result is handed back. Its data needs no reference here: the
 * native side keeps every Buffer it reads in place alive until the result is drained.
 */
class PendingTask {
  constructor(number, ResultBuilder) {
    /** The task's number in TASKS, for its outcome count. */
    this.number = number
    /** Builds the task's result from its parts and output, for the few tasks that need it. */
    this.ResultBuilder = ResultBuilder
    this.builder = undefined
    this.resolve = undefined
    this.reject = undefined
    /** Rejected early (abort, timeout, destroy), or resolved from built parts: whatever arrives later is dropped. */
    this.settled = false
    this.timer = undefined
    this.signal = undefined
    this.onAbort = undefined
    /** The caller's `onProgress`, called with 0..1 while the task runs. */
    this.onProgress = undefined
    /** A worker file's task: its result comes serialized (lib/outcome.js). */
    this.js = false
  }
}

/**
 * `data` cloned with the ArrayBuffers of `transferList` (or of the views in it) moved into the
 * clone without a copy, as a transfer to a worker moves them: the caller's are detached, and
 * nothing but the pool can reach the memory the task reads, so it is read in place. Memory
 * that cannot move (a SharedArrayBuffer, the pool Node shares between small Buffers) stays
 * where it is and is shared or copied.
 */
function handOver(data, transferList) {
  const notBuffers = () =>
    errors.invalidType('transferList must be an array of ArrayBuffers, or of Buffers and other views on them')
  if (!Array.isArray(transferList)) throw notBuffers()
  const transfer = new Set()
  for (const item of transferList) {
    const buffer = ArrayBuffer.isView(item) ? item.buffer : item
    if (typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer) continue
    if (!(buffer instanceof ArrayBuffer)) throw notBuffers()
    // Node 20 has no such check and copies what it cannot move.
    if (!isMarkedAsUntransferable?.(buffer)) transfer.add(buffer)
  }
  return structuredClone(data, { transfer: [...transfer] })
}

/**
 * A copy of options that hold only primitives (`{ n: 10 }`, `{ password, cost }`),
 * which nothing can change: it waits for the tick's batch as a primitive does. Undefined for
 * anything else (Buffers, nested objects, accessors a copy would not keep): that is decoded
 * within `run`.
 */
function flatCopy(data) {
  const proto = Object.getPrototypeOf(data)
  if (proto !== Object.prototype && proto !== null) return undefined
  const keys = Object.keys(data)
  if (keys.length > 16 || Object.getOwnPropertyNames(data).length !== keys.length) return undefined
  const copy = {}
  for (const key of keys) {
    const value = data[key]
    if ((typeof value === 'object' && value !== null) || typeof value === 'function') return undefined
    copy[key] = value
  }
  return copy
}

/** Whether `data` is bytes small enough for a batch's arena (an empty view may be detached: decoded natively). */
function fitsArena(data) {
  return data instanceof Uint8Array && data.byteLength > 0 && data.byteLength <= ARENA_TASK_BYTES
}

/** The `run` calls of one tick, in the typed arrays `NativePool.submit` reads in place. */
class SubmitBatch {
  constructor() {
    this.ids = new Uint32Array(BATCH_CAPACITY)
    /** A native task's number in TASKS, or a worker file's function's (`addFunction`). */
    this.taskNumbers = new Uint32Array(BATCH_CAPACITY)
    this.priorities = new Float64Array(BATCH_CAPACITY)
    /** Each task's TASK_* bits: cancellable, handed over, reports progress. */
    this.flags = new Uint8Array(BATCH_CAPACITY)
    this.reset()
  }

  reset() {
    this.data = []
    this.hasPriority = false
    this.hasFlags = false
    this.arenaUsed = 0
  }

  /** Whether `length` more bytes fit in the arena. */
  fits(length) {
    return this.arenaUsed + length <= ARENA_BYTES
  }

  /** Copies `bytes` into the arena after those before them; returns their length, the task's entry in `data`. */
  copyIn(bytes) {
    // Made on first use: most pools never see bare bytes.
    this.arena ??= new Uint8Array(ARENA_BYTES)
    this.arena.set(bytes, this.arenaUsed)
    this.arenaUsed += bytes.byteLength
    return bytes.byteLength
  }

  get count() {
    return this.data.length
  }

  add(id, number, priority, flags, data) {
    const index = this.data.length
    this.ids[index] = id
    this.taskNumbers[index] = number
    this.priorities[index] = priority
    this.flags[index] = flags
    this.hasPriority ||= priority !== 0
    this.hasFlags ||= flags !== 0
    this.data.push(data)
    return this.data.length === BATCH_CAPACITY
  }
}

/** One live thread, as `pool.threads` lists them: Piscina lists its Workers there. */
class NativeThread {
  constructor(threadId) {
    /** The thread's number in its pool, from 1, never reused. */
    this.threadId = threadId
    Object.freeze(this)
  }
}

class Pool extends EventEmitter {
  #native
  #options
  #started = performance.now()
  /** By task number (native tasks, then worker files' functions): tasks resolved ... */
  #resolved = TASKS.map(() => 0)
  /** ... and tasks rejected, by error code. */
  #rejected = TASKS.map(() => new Map())
  /** Worker files' functions: `${url}\n${name}` → task number, and by number − TASKS.length, their names. */
  #functionNumbers = new Map()
  #functions = []
  /** The JS workers, made when a pool thread first asks for one. */
  #js = undefined
  /** Worker files' results that come through a worker's port: those waiting for it (id → task) ... */
  #awaitingPort = new Map()
  /** ... and those that came first (id → value). */
  #cameByPort = new Map()
  /** Every thread has a task running or promised: `'needsDrain'` was emitted, `'drain'` is due. */
  #saturated = false
  /** id → PendingTask, from `run` until the native result (or refusal) arrives. */
  #pending = new Map()
  #nextId = 1
  #batch = new SubmitBatch()
  /** Filled by `drain()` with the ids and kinds of the results it hands back. */
  #drainedIds = new Uint32Array(DRAIN_CAPACITY)
  #drainedKinds = new Uint8Array(DRAIN_CAPACITY)
  #flushQueued = false
  /** Parts and outputs waiting for their turn to be built into results: task, value, last. */
  #builds = []
  /** `close()` or `destroy()` was called: `run` refuses. */
  #closing = false
  #destroyed = false
  /** Settles once the threads have exited after close/destroy. */
  #exited = undefined
  #resolveExited = undefined

  /** Piscina's `move()`: hand an ArrayBuffer, view or MessagePort to the worker (or back) without a copy. */
  static move = outcome.move
  /** True inside a pool's JS worker. */
  static isWorkerThread = inWorker
  /** Inside a pool's JS worker, the pool's `workerData`. */
  static workerData = inWorker ? workerThreads.workerData.workerData : undefined
  static version = version

  constructor(options) {
    super()
    this.#options = normalizeOptions(options)
    try {
      this.#native = new NativePool(this.#options, () => this.#onWake())
    } catch (error) {
      throw errors.internal(error)
    }
  }

  /**
   * Queues one task; a Promise of its result. Never throws: every failure is a rejection
   * with a `code` (see lib/errors.js).
   */
  run(data, options) {
    let name
    let signal
    let priority = 0
    let timeout
    let transferList
    let onProgress
    if (typeof options === 'string') {
      name = options
    } else if ((typeof options === 'object' && options !== null) || options === undefined) {
      ;({ name, signal, timeout, transferList, onProgress } = options ?? {})
      if (options?.priority !== undefined) priority = options.priority
    } else {
      return Promise.reject(
        errors.invalidType(
          'run(data, name) needs a task name, or { filename, name, signal, priority, timeout, transferList, onProgress }',
        ),
      )
    }
    // A string names a native task; options name an export of the worker file in effect
    // (their own `filename`, else the pool's), or a native task where no file is.
    let filename = null
    if (typeof options !== 'string') {
      try {
        filename =
          options !== undefined && Object.hasOwn(options, 'filename')
            ? workerFileUrl(options.filename, 'run(data, options)')
            : this.#options.filename
      } catch (error) {
        return Promise.reject(error)
      }
    }
    if (filename === null && options === undefined) {
      return Promise.reject(
        errors.invalidType('run(data, name) needs a task name, or a worker file (the pool’s filename option)'),
      )
    }
    let number
    if (filename !== null) {
      if (name !== undefined && typeof name !== 'string') {
        return Promise.reject(errors.invalidType(`name must be the name of an export, got ${String(name)}`))
      }
      number = this.#functionNumber(filename, name ?? this.#options.name)
    } else {
      number = TASK_NUMBER.get(name)
      if (number === undefined) return Promise.reject(errors.unknownTask(name, TASKS))
    }
    if (typeof priority !== 'number' || Number.isNaN(priority)) {
      return Promise.reject(errors.invalidType(`priority must be a number, got ${String(priority)}`))
    }
    if (timeout !== undefined && !(typeof timeout === 'number' && timeout >= 0)) {
      return Promise.reject(errors.outOfRange(`timeout must be a number of ms ≥ 0, got ${String(timeout)}`))
    }
    if (signal != null && !isAbortSignal(signal)) {
      return Promise.reject(errors.invalidType('signal must be an AbortSignal'))
    }
    if (onProgress != null && typeof onProgress !== 'function') {
      return Promise.reject(errors.invalidType('onProgress must be a function'))
    }
    if (this.#closing) return Promise.reject(errors.poolClosed())
    if (signal?.aborted) return Promise.reject(errors.aborted(signal.reason))
    const timed = timeout !== undefined && timeout <= MAX_TIMER_MS
    let flags = signal != null || timed ? TASK_CANCELLABLE : 0
    if (onProgress != null) flags |= TASK_REPORTS_PROGRESS
    let byPort
    if (filename !== null) {
      // Packed now, so that changing `data` after `run` cannot change the task, as with
      // postMessage; what is moved (move(), transferList) is posted through the worker's
      // port when it takes the task, as Piscina posts it when a worker takes it.
      if (outcome.isMoved(data))
        byPort = { data: data.value, transferList: [...data.transferList, ...(transferList ?? [])] }
      else if (transferList !== undefined) byPort = { data, transferList }
      if (byPort !== undefined) {
        flags |= TASK_DATA_BY_PORT
        data = EMPTY_PAYLOAD
      } else {
        try {
          data = outcome.pack(data)
        } catch (error) {
          return Promise.reject(errors.invalidType(`data cannot be cloned to a worker: ${error.message}`))
        }
      }
    } else if (transferList !== undefined) {
      try {
        data = handOver(data, transferList)
      } catch (error) {
        return Promise.reject(
          typeof error.code === 'string' ? error : errors.invalidType(`data cannot be handed over: ${error.message}`),
        )
      }
      flags |= TASK_HANDED_OVER
    }

    const id = this.#nextId
    this.#nextId = id === MAX_ID ? 1 : id + 1
    const task = new PendingTask(number, RESULT_BUILDERS[number])
    const promise = new Promise((resolve, reject) => {
      task.resolve = resolve
      task.reject = reject
    })
    task.onProgress = onProgress ?? undefined
    task.js = filename !== null
    if (byPort !== undefined) this.#jsWorkers().keepData(id, byPort.data, byPort.transferList)
    this.#pending.set(id, task)
    if (!this.#saturated && this.#pending.size >= this.#options.maxThreads) {
      this.#saturated = true
      queueMicrotask(() => this.emit('needsDrain'))
    }
    if (signal != null) {
      task.signal = signal
      task.onAbort = () => this.#cancel(id, task, errors.aborted(signal.reason))
      signal.addEventListener('abort', task.onAbort, { once: true })
    }
    if (timed) task.timer = setTimeout(() => this.#cancel(id, task, errors.timedOut(timeout)), timeout)

    // Primitives cannot change, so they wait for the tick's batch, as a worker file's data,
    // packed already, and a copy of options of primitives do; so does a copy of a small
    // Buffer a task reads as bare bytes, in the batch's arena. Any other object is decoded
    // now (staged), so that reusing or changing it after `run` returns cannot change this
    // task, and its job waits for the batch too.
    if (!task.js && typeof data === 'object' && data !== null) {
      const flat = flatCopy(data)
      if (flat !== undefined) data = flat
      else if (READS_BYTES[number] && (flags & TASK_HANDED_OVER) === 0 && fitsArena(data)) {
        if (!this.#batch.fits(data.byteLength)) this.#flush()
        data = this.#batch.copyIn(data)
        flags |= TASK_IN_ARENA
      } else {
        let refused
        try {
          refused = this.#native.stage(id, number, flags, priority, data)
        } catch (error) {
          refused = { error: errors.internal(error) }
        }
        if (refused != null) {
          this.#rejectEarly(task, refused.error ?? errors.fromNative(refused.kind, refused.message))
          this.#pending.delete(id)
          return promise
        }
        flags |= TASK_STAGED
        data = undefined
      }
    }
    if (this.#batch.add(id, number, priority, flags, data)) {
      this.#flush()
    } else if (!this.#flushQueued) {
      this.#flushQueued = true
      queueMicrotask(this.#flush)
    }
    return promise
  }

  /** The task number of export `name` of the worker file `url`, made known to the native side once. */
  #functionNumber(url, name) {
    const key = `${url}\n${name}`
    let number = this.#functionNumbers.get(key)
    if (number === undefined) {
      number = this.#native.addFunction(url, name)
      this.#functionNumbers.set(key, number)
      this.#functions.push({ url, name })
      this.#resolved.push(0)
      this.#rejected.push(new Map())
    }
    return number
  }

  #jsWorkers() {
    this.#js ??= new JsWorkers(this.#native, this.#options, {
      emit: (event, ...args) => this.emit(event, ...args),
      fault: (error) => this.#faultError(error),
      failRunning: (id, error) => this.#rejectEarly(this.#pending.get(id), error),
      portResult: (id, value) => this.#onPortResult(id, value),
    })
    return this.#js
  }

  /**
   * Takes no more tasks and lets running ones finish; queued ones finish too, or with
   * `{ force: true }` are rejected with ERR_POOL_CLOSED. Resolves once the threads have exited.
   */
  close(options) {
    if (options !== undefined && (typeof options !== 'object' || options === null)) {
      return Promise.reject(errors.invalidType('close(options): options must be an object'))
    }
    const force = options?.force ?? false
    if (typeof force !== 'boolean') {
      return Promise.reject(errors.invalidType(`close(options): force must be a boolean, got ${String(force)}`))
    }
    if (this.#destroyed) return this.#exited
    this.#closing = true
    this.#flush()
    this.#exited ??= new Promise((resolve) => (this.#resolveExited = resolve))
    try {
      if (force) this.#native.closeDroppingQueued()
      else this.#native.close()
    } catch (error) {
      return Promise.reject(errors.internal(error))
    }
    return this.#exited
  }

  /** Rejects every queued and running task with ERR_POOL_CLOSED, cancels the running work; resolves once the threads have exited. */
  destroy() {
    if (this.#destroyed) return this.#exited
    this.#destroyed = true
    this.#closing = true
    // Tasks still in this tick's batch never reach the native side.
    const { ids, count } = this.#batch
    for (let index = 0; index < count; index++) {
      const id = ids[index]
      this.#rejectEarly(this.#pending.get(id), errors.poolClosed('the pool was destroyed'))
      this.#pending.delete(id)
    }
    this.#batch.reset()
    for (const task of this.#pending.values()) {
      this.#rejectEarly(task, errors.poolClosed('the pool was destroyed'))
    }
    this.#exited ??= new Promise((resolve) => (this.#resolveExited = resolve))
    try {
      this.#native.destroy()
    } catch (error) {
      return Promise.reject(errors.internal(error))
    }
    this.#js?.terminateAll()
    return this.#exited
  }

  [asyncDispose]() {
    return this.close()
  }

  /** The native threads alive now, one entry each, as Piscina lists its Workers. */
  get threads() {
    return this.#native.threads.map((threadId) => new NativeThread(threadId))
  }

  /** The JS workers alive now, one per pool thread that has run a worker file's task. */
  get workers() {
    return this.#js?.workers ?? []
  }

  get maxThreads() {
    return this.#options.maxThreads
  }

  get minThreads() {
    return this.#options.minThreads
  }

  /** Milliseconds since the pool was made. */
  get duration() {
    return performance.now() - this.#started
  }

  /** Every thread has a task running or waiting for it: a new task would queue. */
  get needsDrain() {
    return this.#saturated
  }

  /** Tasks accepted that no thread has started yet. */
  get queueSize() {
    return this.#native.queueSize + this.#batch.count
  }

  /** Tasks that ran on a thread and finished, resolved or rejected. */
  get completed() {
    return this.#native.completed
  }

  /** Share of thread capacity spent running tasks since the pool started, 0..1. */
  get utilization() {
    return this.#native.utilization
  }

  /** Milliseconds tasks ran on a thread. */
  get runTime() {
    return this.#native.times().runTime
  }

  /** Milliseconds tasks waited in the queue. */
  get waitTime() {
    return this.#native.times().waitTime
  }

  /** Piscina's `histogram` member: `runTime` and `waitTime` together. */
  get histogram() {
    return this.#native.times()
  }

  /**
   * Per task name: how many ended each way (`ok` or an error code) and their run and wait
   * times, as the threads measured them. With `{ buckets }` (ms, ascending), each histogram
   * also has `buckets`: the count of durations up to each bound, as Prometheus keeps them.
   */
  stats(options) {
    const bounds = options?.buckets
    if (bounds !== undefined && !(Array.isArray(bounds) && bounds.every((b) => typeof b === 'number' && b >= 0))) {
      throw errors.invalidType('stats(options): buckets must be an array of numbers of ms ≥ 0')
    }
    const times = this.#native.timesByTask(bounds)
    const stats = {}
    this.#taskLabels().forEach((label, number) => {
      const outcomes = { ok: this.#resolved[number], ...Object.fromEntries(this.#rejected[number]) }
      stats[label] = { outcomes, ...times[number] }
    })
    return stats
  }

  /**
   * By task number, the name `stats()` uses: a native task's, or a worker file function's
   * export name; `url#name` where that name is taken (by a native task or another file).
   */
  #taskLabels() {
    const taken = new Map()
    for (const { name } of this.#functions) taken.set(name, (taken.get(name) ?? 0) + 1)
    const labels = this.#functions.map(({ url, name }) =>
      TASK_NUMBER.has(name) || taken.get(name) > 1 ? `${url}#${name}` : name,
    )
    return [...TASKS, ...labels]
  }

  get tasks() {
    return TASKS
  }

  get options() {
    return this.#options
  }

  #flush = () => {
    this.#flushQueued = false
    const batch = this.#batch
    if (batch.count === 0) return
    const { ids, data } = batch
    let rejected
    try {
      rejected = this.#native.submit(
        ids,
        batch.taskNumbers,
        batch.hasPriority ? batch.priorities : null,
        batch.hasFlags ? batch.flags : null,
        data,
        batch.arenaUsed > 0 ? batch.arena : null,
      )
    } catch (error) {
      // Nothing of the batch was queued: every one of its tasks fails with the reason.
      rejected = Array.from({ length: batch.count }, (_, index) => ({ index, error: errors.internal(error) }))
    }
    if (rejected != null) {
      for (const { index, kind, message, error } of rejected) {
        const id = ids[index]
        const task = this.#pending.get(id)
        if (task?.js) this.#js?.forgetData(id)
        this.#rejectEarly(task, error ?? errors.fromNative(kind, message))
        this.#pending.delete(id)
      }
    }
    batch.reset()
  }

  /** Abort or timeout: reject at once, and stop the native work. */
  #cancel(id, task, error) {
    if (task.settled) return
    this.#rejectEarly(task, error)
    // The native side must know the task before it can cancel it.
    if (this.#batch.count > 0) this.#flush()
    let queued
    try {
      queued = this.#native.cancel(id)
    } catch (error) {
      this.#fault(errors.internal(error).message)
      return
    }
    if (task.js) {
      this.#js?.forgetData(id)
      this.#awaitingPort.delete(id)
      if (!queued) this.#js?.stop(id, error.cause ?? error)
    }
  }

  #rejectEarly(task, error) {
    if (task === undefined || task.settled) return
    task.settled = true
    this.#fail(task, error)
  }

  /** Every task ends here or in `#fail`: its timer and listener dropped, its outcome counted. */
  #succeed(task, result) {
    this.#release(task)
    this.#resolved[task.number]++
    task.resolve(result)
  }

  #fail(task, error) {
    this.#release(task)
    const rejected = this.#rejected[task.number]
    // A worker file's function may throw anything; what has no code is counted as `error`.
    const code = typeof error?.code === 'string' ? error.code : 'error'
    rejected.set(code, (rejected.get(code) ?? 0) + 1)
    task.reject(error)
  }

  /** Drops the task's timer and abort listener. */
  #release(task) {
    if (task.timer !== undefined) clearTimeout(task.timer)
    if (task.signal !== undefined) task.signal.removeEventListener('abort', task.onAbort)
  }

  /** Called by the native side whenever finished tasks are waiting: hand them all back. */
  #onWake() {
    const ids = this.#drainedIds
    const kinds = this.#drainedKinds
    let drained
    try {
      drained = this.#native.drain(ids, kinds)
    } catch (error) {
      this.#fault(errors.internal(error).message)
      return
    }
    const [values, exited, faults, workersWanted, threadsLeft] = drained
    if (workersWanted != null) {
      const workers = this.#jsWorkers()
      for (const thread of workersWanted) workers.start(thread)
    }
    if (threadsLeft != null && this.#js !== undefined) {
      for (const thread of threadsLeft) this.#js.left(thread)
    }
    const pending = this.#pending
    for (let index = 0; index < values.length; index++) {
      const id = ids[index]
      const task = pending.get(id)
      if (task === undefined) continue
      const kind = kinds[index]
      if (kind === PART_KIND) {
        if (!task.settled) this.#queueBuild(task, values[index], false)
        continue
      }
      if (kind === PROGRESS_KIND) {
        if (!task.settled) this.#reportProgress(task, values[index])
        continue
      }
      pending.delete(id)
      if (task.settled) continue
      if (kind !== RESULT_KIND) {
        this.#fail(task, errors.fromNative(kind, values[index]))
      } else if (task.js) {
        this.#settleFromWorker(id, task, values[index])
      } else if (task.ResultBuilder === undefined) {
        this.#succeed(task, values[index])
      } else {
        this.#queueBuild(task, values[index], true)
      }
    }
    if (faults != null) {
      for (const message of faults) this.#fault(message)
    }
    if (this.#saturated && pending.size < this.#options.maxThreads) {
      this.#saturated = false
      this.emit('drain')
    }
    if (exited) {
      if (this.#js === undefined) this.#resolveExited()
      else this.#js.terminateAll().then(this.#resolveExited)
    }
  }

  /** A worker file's task ended: its outcome as the worker serialized it. */
  #settleFromWorker(id, task, packed) {
    let tag = outcome.RETURNED
    let value
    try {
      if (typeof packed === 'string') value = JSON.parse(packed)
      else [tag, value] = outcome.decode(packed)
    } catch (error) {
      this.#fail(task, errors.taskFailed(`the worker's result could not be read: ${error.message}`))
      return
    }
    if (tag === outcome.RETURNED) this.#succeed(task, value)
    else if (tag === outcome.THREW) this.#fail(task, outcome.errorFrom(value))
    else if (this.#cameByPort.has(id)) {
      const moved = this.#cameByPort.get(id)
      this.#cameByPort.delete(id)
      this.#succeed(task, moved)
    } else this.#awaitingPort.set(id, task)
  }

  /** A result a worker moved through its port; its task's end may come before or after. */
  #onPortResult(id, value) {
    const task = this.#awaitingPort.get(id)
    if (task === undefined) {
      if (this.#pending.has(id)) this.#cameByPort.set(id, value)
      return
    }
    this.#awaitingPort.delete(id)
    if (!task.settled) this.#succeed(task, value)
  }

  /**
   * Building a result makes many values: each part and output gets an event-loop turn of
   * its own, in order, so that timers and I/O run between them.
   */
  #queueBuild(task, value, last) {
    this.#builds.push(task, value, last)
    if (this.#builds.length === 3) setImmediate(this.#buildNext)
  }

  #buildNext = () => {
    const builds = this.#builds
    const [task, value, last] = builds.splice(0, 3)
    if (builds.length > 0) setImmediate(this.#buildNext)
    this.#build(task, value, last)
  }

  /** A part of a task's result (`last` false) or its output, built into its result. */
  #build(task, value, last) {
    if (task.settled) return
    try {
      task.builder ??= new task.ResultBuilder()
      if (!last) {
        task.builder.add(value)
        return
      }
      const result = task.builder.finish(value)
      task.settled = true
      this.#succeed(task, result)
    } catch (error) {
      this.#rejectEarly(task, errors.taskFailed(`building the result failed: ${error.message}`))
    }
  }

  /** The caller's own callback: whatever it throws is a warning, never a lost result. */
  #reportProgress(task, fraction) {
    try {
      task.onProgress(fraction)
    } catch (error) {
      process.emitWarning(error)
    }
  }

  /** A worker's error outside any task: the `error` event, or a warning if no one listens. */
  #faultError(error) {
    if (this.listenerCount('error') > 0) this.emit('error', error)
    else process.emitWarning(error)
  }

  /** A fault outside any one task: the `error` event, or a warning if no one listens. */
  #fault(message) {
    const error = new Error(message)
    error.code = 'ERR_POOL_FAULT'
    if (this.listenerCount('error') > 0) this.emit('error', error)
    else process.emitWarning(error)
  }
}

module.exports = {
  Pool,
  move: outcome.move,
  isWorkerThread: inWorker,
  workerData: Pool.workerData,
  version,
}
