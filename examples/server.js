'use strict'
// The service cisterna is for: an express app whose CPU routes run on the pool, with
// Prometheus metrics and a graceful SIGTERM. `PORT=3000 node examples/server.js`
// (PORT=0 picks a free port); it prints the address it listens on.

const express = require('express')
const client = require('prom-client')
const { Pool } = require('cisterna')
const { collectMetrics } = require('cisterna/prometheus')

/** After SIGTERM, connections still open this long are closed, requests or not. */
const GRACE_MS = Number(process.env.GRACE_MS ?? 30_000)
/** Bodies above this are refused with 413 before they are read. */
const MAX_BODY = 64 << 20
/** Tasks that may wait for a thread; past it a request gets 503 and Retry-After. */
const MAX_QUEUE = Number(process.env.MAX_QUEUE ?? 1000)

const pool = new Pool({ maxQueue: MAX_QUEUE })
const register = new client.Registry()
client.collectDefaultMetrics({ register })
collectMetrics(pool, { register })

/** An HTTP error with the pool's code, answered as JSON `{ code, message }`. */
function httpError(status, code, message) {
  return Object.assign(new Error(message), { status, code })
}

const STATUS_BY_CODE = {
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
function readBody(req) {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'])
    if (declared > MAX_BODY) {
      reject(httpError(413, 'ERR_INPUT_TOO_LARGE', `bodies are limited to ${MAX_BODY} bytes`))
      req.resume()
      return
    }
    let body = Number.isInteger(declared) ? Buffer.allocUnsafeSlow(declared) : undefined
    const chunks = []
    let length = 0
    req.on('data', (chunk) => {
      if (length + chunk.length > (body?.length ?? MAX_BODY)) {
        req.destroy(httpError(413, 'ERR_INPUT_TOO_LARGE', 'the body is longer than it said, or too long'))
        return
      }
      if (body !== undefined) chunk.copy(body, length)
      else chunks.push(chunk)
      length += chunk.length
    })
    req.on('error', reject)
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
  const body = await readBody(req)
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

const app = express()
app.disable('x-powered-by')
// An ETag would hash every image and JSON answer on the main thread.
app.disable('etag')

app.get('/health', (_req, res) => {
  res.type('text/plain').send('ok')
})

app.post('/hash', async (req, res) => {
  const data = await readBody(req)
  const algorithm = req.query.algorithm ?? 'sha256'
  const digest = await pool.run({ data, algorithm }, { name: 'hash', transferList: [data] })
  res.type('text/plain').send(digest)
})

app.post('/resize', async (req, res) => {
  const input = await readBody(req)
  const options = typedQuery(req.query)
  const { data, info } = await pool.run(
    { ...options, input, resolveWithObject: true },
    { name: 'resize', transferList: [input] },
  )
  res.type(`image/${info.format}`).send(data)
})

app.post('/csv', async (req, res) => {
  const input = await readBody(req)
  // The JSON text is written on a pool thread: the main thread builds no rows and
  // stringifies nothing, it only sends the bytes.
  const json = await pool.run(
    { ...typedQuery(req.query), input, output: 'json' },
    { name: 'parseCsv', transferList: [input] },
  )
  res.type('application/json').send(json)
})

app.post('/password', async (req, res) => {
  const { password, cost } = await readJson(req)
  const hash = await pool.run({ password, cost }, 'hashPassword')
  res.json({ hash })
})

app.post('/password/verify', async (req, res) => {
  const { password, hash } = await readJson(req)
  const ok = await pool.run({ password, hash }, 'verifyPassword')
  res.json({ ok })
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
  const status = error.status ?? STATUS_BY_CODE[error.code] ?? 500
  if (status === 503) res.set('Retry-After', '1')
  if (status >= 500 && status !== 503) console.error(error)
  res.status(status).json({ code: error.code ?? 'ERR_INTERNAL', message: error.message })
})

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`)
})

// Stop taking connections, let the requests in flight finish, then the pool, then exit.
// Node closes idle keep-alive connections itself; one stuck past GRACE_MS is cut.
process.once('SIGTERM', () => {
  server.close(async () => {
    await pool.close()
    process.exit(0)
  })
  setTimeout(() => server.closeAllConnections(), GRACE_MS).unref()
})
