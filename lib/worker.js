'use strict'
// A JS worker of a cisterna pool: runs the functions of worker files for one pool thread.
// The thread hands it a job and waits; the worker runs it and, in the same native call that
// finishes it, takes the next queued one (`complete`), until none is left for it.

const { fileURLToPath } = require('node:url')
const { workerData } = require('node:worker_threads')
const { JsWorker, TASK_CANCELLABLE, TASK_DATA_BY_PORT } = require('./native.js')
const { RETURNED, THREW, BY_PORT, isMoved, isJsonExact, encode, errorRecord, unpack } = require('./outcome.js')

const { poolKey, thread, control } = workerData.cisterna

/** `[id, label, flags]` of the job `take` or `complete` handed over. */
const meta = new Uint32Array(3)
/** By label: the function, or a Promise of it while its file loads. */
const functions = new Map()
/** What a task that cannot be cancelled receives: a signal that never aborts. */
const UNCANCELLABLE = Object.freeze({ signal: new AbortController().signal })
/** The running task, when it can be aborted: its id and controller. */
let cancellable
/** Data coming through the port (transferList, move()), by task id. */
const awaitingData = new Map()
/** A job is running, or the loop is about to take one: a wake-up has nothing to do. */
let busy = false

const worker = JsWorker.attach(poolKey, thread, () => {
  if (!busy) serve(worker.take(meta))
})

/** Tasks aborted before this worker began them, by id: they end at once when they come. */
const abortedEarly = new Set()

control.on('message', (message) => {
  if (message.abort !== undefined) {
    if (cancellable?.id === message.abort) cancellable.controller.abort(message.reason)
    else abortedEarly.add(message.abort)
    return
  }
  const waiting = awaitingData.get(message.id)
  if (waiting === undefined) return
  awaitingData.delete(message.id)
  if (message.gone) waiting.reject(new Error('the task was settled before its data arrived'))
  else waiting.resolve(message.data)
})

/** Runs jobs while the pool has them for this worker; synchronous functions in one loop. */
function serve(payload) {
  busy = true
  while (payload !== null) {
    const id = meta[0]
    const label = meta[1]
    const flags = meta[2]
    if (abortedEarly.delete(id)) {
      payload = finish(id, THREW, new Error('the task was aborted before it began'))
      continue
    }
    const fn = functions.get(label)
    if (typeof fn !== 'function' || (flags & TASK_DATA_BY_PORT) !== 0) {
      runLater(id, label, flags, payload)
      return
    }
    let result
    try {
      result = fn(unpack(payload), contextFor(id, flags))
    } catch (error) {
      payload = finish(id, THREW, error)
      continue
    }
    if (typeof result?.then === 'function') {
      result.then(
        (value) => serve(finish(id, RETURNED, value)),
        (error) => serve(finish(id, THREW, error)),
      )
      return
    }
    payload = finish(id, RETURNED, result)
  }
  busy = false
}

/** A job whose function is still to load, or whose data comes through the port. */
async function runLater(id, label, flags, payload) {
  let tag = RETURNED
  let value
  try {
    const fn = await functionOf(label)
    const data = (flags & TASK_DATA_BY_PORT) !== 0 ? await dataByPort(id) : unpack(payload)
    value = await fn(data, contextFor(id, flags))
  } catch (error) {
    tag = THREW
    value = error
  }
  serve(finish(id, tag, value))
}

function contextFor(id, flags) {
  if ((flags & TASK_CANCELLABLE) === 0) {
    cancellable = undefined
    return UNCANCELLABLE
  }
  const controller = new AbortController()
  cancellable = { id, controller }
  return { signal: controller.signal }
}

/** Ends the task with its outcome; the next job's data, or null. */
function finish(id, tag, value) {
  cancellable = undefined
  return worker.complete(outcomeBytes(id, tag, value), meta)
}

function outcomeBytes(id, tag, value) {
  if (tag === THREW) return encode(THREW, errorRecord(value))
  if (isMoved(value)) {
    try {
      control.postMessage({ id, value: value.value }, value.transferList)
      return encode(BY_PORT, null)
    } catch (error) {
      return encode(THREW, errorRecord(error))
    }
  }
  // A returned value as JSON text when that is exact; anything else is framed with its tag.
  if (isJsonExact(value)) return JSON.stringify(value)
  try {
    return encode(RETURNED, value)
  } catch (error) {
    const notCloneable = new TypeError(`the task's result cannot be cloned: ${error.message}`)
    notCloneable.code = 'ERR_INVALID_ARG'
    return encode(THREW, errorRecord(notCloneable))
  }
}

function functionOf(label) {
  let found = functions.get(label)
  if (found === undefined) {
    found = load(label)
    functions.set(label, found)
    found.then(
      (fn) => functions.set(label, fn),
      () => functions.delete(label),
    )
  }
  return found
}

/** Loads the worker file (CommonJS or ES module) and finds the function named. */
async function load(label) {
  const [url, name] = worker.function(label)
  const exported = await pick(await loadFile(url), name)
  if (typeof exported !== 'function') {
    const error = new TypeError(
      name === 'default'
        ? `${url} exports no function by default (module.exports or export default)`
        : `${url} exports no function named ${JSON.stringify(name)}`,
    )
    error.code = 'ERR_UNKNOWN_TASK'
    throw error
  }
  return exported
}

/**
 * Where `import()` is the one to ask: an ES module or a file type `require` cannot load, and
 * a file it cannot find (so that a missing file fails as `import()` reports it).
 */
const NEEDS_IMPORT = new Set([
  'ERR_REQUIRE_ESM',
  'ERR_REQUIRE_ASYNC_MODULE',
  'ERR_UNKNOWN_FILE_EXTENSION',
  'MODULE_NOT_FOUND',
])

/**
 * `require` first, as Piscina does: CommonJS loads without starting the ES module loader,
 * which costs each worker memory; `import()` for what `require` cannot load.
 */
async function loadFile(url) {
  if (!/\.m[jt]s$/.test(url)) {
    try {
      return require(fileURLToPath(url))
    } catch (error) {
      if (!NEEDS_IMPORT.has(error?.code)) throw error
    }
  }
  return import(url)
}

/**
 * The export `name` of what was loaded: for `default`, `module.exports` when it is a
 * function, else the default export (of an ES module, or of CommonJS compiled from one).
 */
function pick(loaded, name) {
  if (name !== 'default') return loaded?.[name] ?? loaded?.default?.[name]
  if (typeof loaded === 'function') return loaded
  const fallback = loaded?.default
  return typeof fallback === 'function' || typeof fallback?.then === 'function' ? fallback : fallback?.default
}

function dataByPort(id) {
  return new Promise((resolve, reject) => {
    awaitingData.set(id, { resolve, reject })
    control.postMessage({ want: id })
  })
}
