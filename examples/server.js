'use strict'
// The service cisterna is for: an express app whose CPU routes run on the pool, with
// Prometheus metrics and a graceful SIGTERM. `PORT=3000 node examples/server.js`
// (PORT=0 picks a free port); it prints the address it listens on.
//
// Built for clients that may be hostile: what a client may ask for (password costs, image
// sizes, CSV size) is bounded by a policy (`cisterna/limits`, each bound settable by
// environment: BCRYPT_MAX_COST=11), every task has a deadline, a client that hangs up stops
// its task, and SIGTERM ends the process within GRACE_MS.

const http = require('node:http')
const path = require('node:path')
const express = require('express')
const client = require('prom-client')
const { Pool } = require('cisterna')
const { collectMetrics } = require('cisterna/prometheus')
const { createLimits, limitsFromEnv, checkTask } = require('cisterna/limits')

/** After SIGTERM, requests still running this long are stopped and answered 503. */
const GRACE_MS = Number(process.env.GRACE_MS ?? 10_000)
/** Tasks that may wait for a thread; past it a request gets 503 and Retry-After. */
const MAX_QUEUE = Number(process.env.MAX_QUEUE ?? 1000)
/** Threads, and so tasks running at once; by default one per core. */
const MAX_THREADS = process.env.MAX_THREADS === undefined ? undefined : Number(process.env.MAX_THREADS)
/** A JSON body (the password routes) is small. */
const MAX_JSON_BYTES = 64 << 10
/** The deadline of the service's own work (the worker file's `invoice`). */
const INVOICE_TIMEOUT_MS = Number(process.env.INVOICE_TIMEOUT_MS ?? 2_000)
/** The bounds on what a client may ask for, and each task's deadline. */
const limits = createLimits(limitsFromEnv(process.env))

// The service's own CPU work (examples/worker.js) runs on the same pool as the built-in tasks.
const pool = new Pool({ maxQueue: MAX_QUEUE, maxThreads: MAX_THREADS, filename: path.join(__dirname, 'worker.js') })
const register = new client.Registry()
client.collectDefaultMetrics({ register })
collectMetrics(pool, { register })

/** An HTTP error with the pool's code, answered as JSON `{ code, message }`. */
function httpError(status, code, message) {
  return Object.assign(new Error(message), { status, code })
}

const STATUS_BY_CODE = {
  ERR_LIMIT_IMAGE_BYTES: 413,
  ERR_LIMIT_CSV_BYTES: 413,
  ERR_LIMIT_HASH_BYTES: 413,
  ERR_INVALID_ARG: 400,
  ERR_UNKNOWN_TASK: 400,
  ERR_TASK_FAILED: 400,
  ERR_INPUT_TOO_LARGE: 413,
  ERR_QUEUE_FULL: 503,
  ERR_POOL_CLOSED: 503,
  ERR_TIMEOUT: 503,
}

/**
 * The body as one Buffer of its own: with a Content-Length, each chunk is copied once into
 * place, with no list of chunks to join. Being its own ArrayBuffer, it can be handed to the
 * pool with `transferList`, so the pool does not copy it again.
 */
function readBody(req, maxBytes, code) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'])
    if (declared > maxBytes) {
      reject(httpError(413, code, `this route takes bodies of at most ${maxBytes} bytes`))
      req.resume()
      return
    }
    let body = Number.isInteger(declared) ? Buffer.allocUnsafeSlow(declared) : undefined
    const chunks = []
    let length = 0
    req.on('data', (chunk) => {
      if (length + chunk.length > (body?.length ?? maxBytes)) {
        req.destroy(httpError(413, code, 'the body is longer than it said, or too long'))
        return
      }
      if (body !== undefined) chunk.copy(body, length)
      else chunks.push(chunk)
      length += chunk.length
    })
    req.on('error', reject)
    // A client that hangs up mid-body: nothing more will come.
    req.on('close', () => reject(httpError(400, 'ERR_ABORTED', 'the client went away')))
    req.on('end', () => {
      if (body === undefined) {
        body = Buffer.allocUnsafeSlow(length)
        let offset = 0
        for (const chunk of chunks) offset += chunk.copy(body, offset)
      }
      resolve(body.subarray(0, length))
    })
  })
}

/** A JSON object body. */
async function readJson(req) {
  const body = await readBody(req, MAX_JSON_BYTES, 'ERR_INPUT_TOO_LARGE')
  let value
  try {
    value = JSON.parse(body.toString('utf8'))
  } catch (error) {
    throw httpError(400, 'ERR_INVALID_ARG', `the body is not JSON: ${error.message}`)
  }
  if (typeof value !== 'object' || value === null) throw httpError(400, 'ERR_INVALID_ARG', 'the body is not an object')
  return value
}

/** Query values as the tasks take them: 'true'/'false' as booleans, digits as numbers. */
function typedQuery(query) {
  const typed = {}
  for (const [key, value] of Object.entries(query)) {
    if (typeof value !== 'string') throw httpError(400, 'ERR_INVALID_ARG', `${key} is given more than once`)
    if (value === 'true' || value === 'false') typed[key] = value === 'true'
    else if (/^-?\d+(\.\d+)?$/.test(value)) typed[key] = Number(value)
    else typed[key] = value
  }
  return typed
}

/**
 * Runs task `name` for this request: bounded by the policy, with its deadline, and stopped
 * when the client goes away. `transferList` hands the request's own Buffers over uncopied.
 */
function runTask(res, name, data, transferList) {
  return pool.run(checkTask(limits, name, data), {
    name,
    // A built-in task, not an export of the pool's worker file.
    filename: null,
    signal: res.locals.signal,
    timeout: limits.timeouts[name],
    transferList,
  })
}

const app = express()
app.disable('x-powered-by')
// An ETag would hash every image and JSON answer on the main thread.
app.disable('etag')

let shuttingDown = false

// Each request's work ends with it: a response closed before it was sent (the client hung
// up) aborts the request's task, and its thread is free at once.
app.use((_req, res, next) => {
  const controller = new AbortController()
  res.locals.signal = controller.signal
  res.once('close', () => {
    if (!res.writableFinished) controller.abort(new Error('the client went away'))
  })
  // Keep-alive clients are told to go elsewhere once the server is stopping.
  if (shuttingDown) res.set('Connection', 'close')
  next()
})

app.get('/health', (_req, res) => {
  res.type('text/plain').send('ok')
})

app.post('/hash', async (req, res) => {
  const data = await readBody(req, limits.hashMaxBytes, 'ERR_LIMIT_HASH_BYTES')
  const algorithm = req.query.algorithm ?? 'sha256'
  res.type('text/plain').send(await runTask(res, 'hash', { data, algorithm }, [data]))
})

app.post('/resize', async (req, res) => {
  const input = await readBody(req, limits.imageMaxBytes, 'ERR_LIMIT_IMAGE_BYTES')
  const options = typedQuery(req.query)
  const { data, info } = await runTask(res, 'resize', { ...options, input, resolveWithObject: true }, [input])
  res.type(`image/${info.format}`).send(data)
})

app.post('/csv', async (req, res) => {
  const input = await readBody(req, limits.csvMaxBytes, 'ERR_LIMIT_CSV_BYTES')
  // The JSON text is written on a pool thread: the main thread builds no rows and
  // stringifies nothing, it only sends the bytes.
  const json = await runTask(res, 'parseCsv', { ...typedQuery(req.query), input, output: 'json' }, [input])
  res.type('application/json').send(json)
})

app.post('/password', async (req, res) => {
  const { password, algorithm, cost } = await readJson(req)
  res.json({ hash: await runTask(res, 'hashPassword', { password, algorithm, cost }) })
})

app.post('/password/verify', async (req, res) => {
  const { password, hash } = await readJson(req)
  res.json({ ok: await runTask(res, 'verifyPassword', { password, hash }) })
})

// The worker file's `invoice`: JSON in, totals and HTML out, with the deadline and hang-up
// stop that every route has.
app.post('/invoice', async (req, res) => {
  const body = await readJson(req)
  res.json(await pool.run(body, { name: 'invoice', signal: res.locals.signal, timeout: INVOICE_TIMEOUT_MS }))
})

app.get('/metrics', async (_req, res) => {
  res.type(register.contentType).send(await register.metrics())
})

app.use((_req, res) => {
  res.status(404).json({ code: 'ERR_NOT_FOUND', message: 'no such route' })
})

// Express 5 hands rejected route Promises here: every failure is an answer, never a crash.
app.use((error, req, res, _next) => {
  // A client that went away mid-request has no one to answer.
  if (req.socket.destroyed) return
  const status = error.status ?? STATUS_BY_CODE[error.code] ?? (error.code?.startsWith('ERR_LIMIT_') ? 400 : 500)
  if (status === 503) res.set('Retry-After', '1')
  if (status >= 500 && status !== 503) console.error(error)
  res.status(status).json({ code: error.code ?? 'ERR_INTERNAL', message: error.message })
})

const ms = (name, fallback) => Number(process.env[name] ?? fallback)
const server = http.createServer(
  {
    // A client gets this long to send its headers, and this long for the whole request;
    // slower ones (one header line a second) are answered 408 and cut.
    headersTimeout: ms('HEADERS_TIMEOUT_MS', 10_000),
    requestTimeout: ms('REQUEST_TIMEOUT_MS', 60_000),
    // How often those two are checked; Node's default is 30 s.
    connectionsCheckingInterval: 1_000,
    // An idle kept-alive connection is closed after this.
    keepAliveTimeout: ms('KEEP_ALIVE_TIMEOUT_MS', 5_000),
  },
  app,
)
server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`)
})

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms).unref())

// Stop taking connections, let the requests in flight finish for up to GRACE_MS, then stop
// the tasks still running (their clients get 503), close the pool and exit 0: never much
// later than GRACE_MS, whatever a task or a client does.
process.once('SIGTERM', async () => {
  shuttingDown = true
  const closed = new Promise((resolve) => server.close(resolve))
  server.closeIdleConnections()
  const finished = await Promise.race([closed.then(() => true), delay(GRACE_MS).then(() => false)])
  if (finished) await pool.close()
  else {
    // Running and queued tasks reject with ERR_POOL_CLOSED at once; their threads stop.
    const destroyed = pool.destroy()
    // The 503s go out (written as the rejections settle); then whatever is left is cut.
    await Promise.race([closed, delay(100)])
    server.closeAllConnections()
    // A task inside one long call into C (an image decode) ends with the process instead.
    await Promise.race([destroyed, delay(500)])
  }
  process.exit(0)
})
