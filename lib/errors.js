'use strict'
// Every error cisterna rejects with: an Error with a stable `code` (docs/api.md's table of errors).
// Failures from Rust arrive as a kind number and a message; `fromNative` makes them here, with
// the code and class Rust declares for each kind (`failureKinds()`).

const { failureKinds } = require('./native.js')

function withCode(ErrorClass, code, message, name) {
  const error = new ErrorClass(message)
  error.code = code
  if (name !== undefined) error.name = name
  return error
}

const unknownTask = (name, known) =>
  withCode(
    TypeError,
    'ERR_UNKNOWN_TASK',
    `no task named ${JSON.stringify(name)}; the known tasks are ${known.join(', ')}`,
  )
const invalidType = (message) => withCode(TypeError, 'ERR_INVALID_ARG', message)
const outOfRange = (message) => withCode(RangeError, 'ERR_INVALID_ARG', message)
const poolClosed = (message = 'the pool is closed') => withCode(Error, 'ERR_POOL_CLOSED', message)
const timedOut = (ms) => withCode(Error, 'ERR_TIMEOUT', `the task timed out after ${ms} ms`)
const taskFailed = (message) => withCode(Error, 'ERR_TASK_FAILED', message)

/** The JS worker running a task exited (crash, `process.exit`, `resourceLimits`), or could not start. */
function workerExited(message, cause) {
  const error = withCode(Error, 'ERR_WORKER_EXITED', message)
  if (cause !== undefined) error.cause = cause
  return error
}

/** Data past a bound of a service's policy (`cisterna/limits`): `code` names the bound, `limit` is its value. */
function limitExceeded(code, message, limit) {
  const error = withCode(RangeError, code, message)
  error.limit = limit
  return error
}

/**
 * A failure inside cisterna itself: a native call that panicked (the binding catches the
 * unwind) or refused what index.js gave it. Errors that already carry a cisterna code pass.
 */
function internal(error) {
  if (typeof error?.code === 'string' && error.code.startsWith('ERR_')) return error
  const wrapped = withCode(Error, 'ERR_INTERNAL', `cisterna failed inside: ${error?.message ?? String(error)}`)
  wrapped.cause = error
  return wrapped
}

/** An AbortError as Node makes them, carrying the signal's reason as its `cause`. */
function aborted(reason) {
  const error = withCode(Error, 'ERR_ABORTED', 'the task was aborted', 'AbortError')
  if (reason !== undefined) error.cause = reason
  return error
}

const CLASSES = { Error, TypeError, RangeError }

// Index = the kind's number in Rust (`error::Kind`), from 1; each kind names its code and class.
const byKindNumber = [
  undefined,
  ...failureKinds().map(({ code, className }) =>
    code === 'ERR_ABORTED' ? () => aborted() : (message) => withCode(CLASSES[className], code, message),
  ),
]

/** The Error for a failure reported by Rust. */
function fromNative(kind, message) {
  const make = byKindNumber[kind]
  return make === undefined ? taskFailed(message) : make(message)
}

module.exports = {
  unknownTask,
  invalidType,
  outOfRange,
  poolClosed,
  timedOut,
  aborted,
  taskFailed,
  workerExited,
  limitExceeded,
  internal,
  fromNative,
}
