'use strict'
// `cisterna/bullmq`: BullMQ's CPU jobs run on the pool, instead of in a sandboxed processor
// (a child process or worker thread per job). A job's name is the task and its data what
// `pool.run` takes, as the job's JSON carries it.

const { checkTask } = require('./limits.js')
const { requirePeer } = require('./peer.js')

/** Failures that will fail again on retry: the job fails at once, whatever its `attempts`. */
const UNRECOVERABLE = new Set(['ERR_INVALID_ARG', 'ERR_UNKNOWN_TASK', 'ERR_INPUT_TOO_LARGE', 'ERR_TASK_FAILED'])
const isUnrecoverable = (code) => UNRECOVERABLE.has(code) || code.startsWith('ERR_LIMIT_')

function isPlainObject(value) {
  if (value === null || typeof value !== 'object') return false
  const prototype = Object.getPrototypeOf(value)
  return prototype === Object.prototype || prototype === null
}

/** A Buffer as `JSON.stringify` writes it: `{ type: 'Buffer', data: [bytes] }`. */
function isJsonBuffer(value) {
  return isPlainObject(value) && value.type === 'Buffer' && Array.isArray(value.data) && Object.keys(value).length === 2
}

/** Job data as `pool.run` takes it: every Buffer the job's JSON carries turned back into one. */
function fromJobData(value) {
  if (isJsonBuffer(value)) return Buffer.from(value.data)
  if (Array.isArray(value)) return value.map(fromJobData)
  if (isPlainObject(value)) {
    const data = {}
    for (const [key, field] of Object.entries(value)) data[key] = fromJobData(field)
    return data
  }
  return value
}

/**
 * A result as the job's JSON can carry it: a BigInt (fib) as its decimal string, typed
 * arrays (parseCsv's numeric columns) as arrays. Buffers stay Buffers: BullMQ's JSON writes
 * them in their `{ type: 'Buffer', data }` form. Only the first two levels can hold such
 * values, so rows are not walked.
 */
function toJobResult(value, depth = 0) {
  if (typeof value === 'bigint') return value.toString()
  if (Buffer.isBuffer(value)) return value
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value)
  if (depth >= 2) return value
  if (Array.isArray(value)) return value.map((item) => toJobResult(item, depth + 1))
  if (isPlainObject(value)) {
    const result = {}
    for (const [key, field] of Object.entries(value)) result[key] = toJobResult(field, depth + 1)
    return result
  }
  return value
}

/**
 * A BullMQ processor running each job on `pool`: `new Worker(queue, createProcessor(pool),
 * { connection, concurrency })`. Errors keep their code in the message; those that will
 * never succeed fail the job at once (UnrecoverableError), the others follow the job's
 * `attempts` and backoff. BullMQ's signal (`worker.cancelJob`, `cancelAllJobs`) aborts the
 * task and frees its thread; the task's progress goes to `job.updateProgress` (0–100).
 * `options.limits` (from `cisterna/limits`' `createLimits`) bounds what a job's data may ask
 * for (past a bound the job fails at once with an `ERR_LIMIT_*` code) and gives each task its
 * deadline; `options.timeout` (ms) bounds every job's run, whatever its task.
 */
function createProcessor(pool, options = {}) {
  const { UnrecoverableError } = requirePeer('bullmq', 'cisterna/bullmq')
  const { timeout, limits } = options
  // Three parameters: BullMQ passes a signal only to a processor that declares it.
  return async function processJob(job, _token, signal) {
    const onProgress = (fraction) => {
      job.updateProgress(Math.round(fraction * 100)).catch(() => {
        // A lost progress update is not worth failing the job for.
      })
    }
    try {
      let data = fromJobData(job.data)
      let deadline = timeout
      if (limits !== undefined) {
        data = checkTask(limits, job.name, data)
        deadline ??= limits.timeouts[job.name]
      }
      const result = await pool.run(data, { name: job.name, signal, timeout: deadline, onProgress })
      return toJobResult(result)
    } catch (error) {
      if (typeof error.code !== 'string') throw error
      const message = `${error.code}: ${error.message}`
      if (isUnrecoverable(error.code)) throw Object.assign(new UnrecoverableError(message), { code: error.code })
      throw Object.assign(new Error(message), { code: error.code, cause: error })
    }
  }
}

/**
 * Aborts the task of every job whose lock this worker could not renew: another worker may
 * take that job over, so its thread is better spent on the next one.
 */
function cancelLostJobs(worker) {
  worker.on('lockRenewalFailed', (jobIds) => {
    for (const id of jobIds) worker.cancelJob(id, 'the job lock was lost')
  })
  return worker
}

module.exports = { createProcessor, cancelLostJobs, fromJobData, toJobResult }
