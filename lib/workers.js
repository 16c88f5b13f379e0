'use strict'
// The main thread's side of a pool's JS workers: it starts one when a pool thread asks for
// it, ends it when the thread leaves, hands over data that goes through the port, tells a
// running task it was aborted, and terminates a worker that does not stop in time.

const path = require('node:path')
const { Worker } = require('node:worker_threads')
const errors = require('./errors.js')
const { errorFrom } = require('./outcome.js')

const ENTRY = path.join(__dirname, 'worker.js')

/** How long a JS task told to stop (abort, timeout) has to settle before its worker is terminated. */
const STOP_GRACE_MS = 100

class JsWorkers {
  #native
  #options
  /** Pool thread number → { worker, control, error } */
  #byThread = new Map()
  /** Task id → { data, transferList } for data that goes through the port. */
  #portData = new Map()
  #hooks

  /**
   * `hooks`: `emit(event, ...args)`, `fault(error)` (an error outside any task),
   * `failRunning(id, error)` (the worker running task `id` is gone), `portResult(id, value)`.
   */
  constructor(native, options, hooks) {
    this.#native = native
    this.#options = options
    this.#hooks = hooks
  }

  get size() {
    return this.#byThread.size
  }

  /** The Workers alive now. */
  get workers() {
    return [...this.#byThread.values()].map((entry) => entry.worker)
  }

  /** A pool thread asks for a worker to run worker files' tasks. */
  start(thread) {
    const { port1: control, port2 } = new MessageChannel()
    const options = this.#options
    let worker
    try {
      worker = new Worker(ENTRY, {
        workerData: {
          cisterna: { poolKey: this.#native.poolKey, thread, control: port2 },
          workerData: options.workerData,
        },
        transferList: [port2],
        env: options.env,
        argv: options.argv,
        execArgv: options.execArgv,
        resourceLimits: options.resourceLimits,
        trackUnmanagedFds: options.trackUnmanagedFds,
        name: `cisterna worker ${thread}`,
      })
    } catch (error) {
      control.close()
      this.#gone(thread, errors.workerExited(`the worker could not start: ${error.message}`, error))
      return
    }
    const entry = { worker, control, error: undefined }
    this.#byThread.set(thread, entry)
    control.on('message', (message) => this.#onControl(entry, message))
    control.unref()
    worker.on('message', (message) => this.#hooks.emit('message', message))
    worker.on('error', (error) => {
      entry.error = error
    })
    worker.on('exit', (exitCode) => {
      if (this.#byThread.get(thread) === entry) this.#byThread.delete(thread)
      control.close()
      const error =
        entry.error === undefined
          ? errors.workerExited(`the worker running the task exited with code ${exitCode}`)
          : uncaught(entry.error)
      const running = this.#gone(thread, error, entry)
      if (running == null && entry.error !== undefined) this.#hooks.fault(error)
      this.#hooks.emit('workerDestroy', worker)
    })
    // The pool keeps the process alive while tasks are in flight; an idle worker must not.
    // After the listeners: a 'message' listener refs the worker's port again.
    worker.unref()
    this.#hooks.emit('workerCreate', worker)
  }

  /** The native side forgets the thread's worker; the task it ran, if any, fails with `error`. */
  #gone(thread, error, entry) {
    let running
    try {
      running = this.#native.workerGone(thread, error.message)
    } catch (fault) {
      this.#hooks.fault(errors.internal(fault))
      return undefined
    }
    if (running != null && entry !== undefined) this.#hooks.failRunning(running, error)
    return running
  }

  /** The pool thread left (idle, or the pool is closing): its worker goes too. */
  left(thread) {
    this.#byThread.get(thread)?.worker.terminate()
  }

  /** Terminates every worker; resolves once all have exited. */
  terminateAll() {
    return Promise.all(
      [...this.#byThread.values()].map(
        ({ worker }) =>
          new Promise((resolve) => {
            worker.once('exit', resolve)
            worker.terminate()
          }),
      ),
    )
  }

  /** Keeps a task's data to post when its worker asks. */
  keepData(id, data, transferList) {
    this.#portData.set(id, { data, transferList })
  }

  forgetData(id) {
    this.#portData.delete(id)
  }

  /**
   * Task `id` was aborted or timed out while a worker may run it: the worker's function is told
   * through its signal, and the worker is terminated if the task is still on it after a grace.
   */
  stop(id, reason) {
    let thread
    try {
      thread = this.#native.threadRunning(id)
    } catch {
      return
    }
    const entry = thread == null ? undefined : this.#byThread.get(thread)
    if (entry === undefined) return
    entry.control.postMessage({ abort: id, reason: describe(reason) })
    setTimeout(() => {
      if (this.#byThread.get(thread) === entry && this.#native.threadRunning(id) === thread) {
        entry.worker.terminate()
      }
    }, STOP_GRACE_MS).unref()
  }

  #onControl(entry, message) {
    if (message.want !== undefined) {
      const kept = this.#portData.get(message.want)
      this.#portData.delete(message.want)
      if (kept === undefined) {
        entry.control.postMessage({ id: message.want, gone: true })
        return
      }
      try {
        entry.control.postMessage({ id: message.want, data: kept.data }, kept.transferList)
      } catch {
        entry.control.postMessage({ id: message.want, gone: true })
      }
      return
    }
    this.#hooks.portResult(message.id, message.value)
  }
}

/**
 * What a worker threw uncaught (or Node's error for it, ERR_WORKER_OUT_OF_MEMORY say), as an
 * Error of this thread with its name, message, stack and properties; ERR_WORKER_EXITED when
 * it has no code of its own.
 */
function uncaught(thrown) {
  if (typeof thrown !== 'object' || thrown === null) return errors.workerExited(`the worker threw ${String(thrown)}`)
  const error = errorFrom({
    name: thrown.name,
    message: thrown.message,
    stack: thrown.stack,
    properties: { ...thrown },
  })
  error.code ??= 'ERR_WORKER_EXITED'
  return error
}

/** An abort reason as the worker can receive it: cloneable, or its message. */
function describe(reason) {
  try {
    structuredClone(reason)
    return reason
  } catch {
    return String(reason?.message ?? reason)
  }
}

module.exports = { JsWorkers }
