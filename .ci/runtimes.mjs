// The pool under another runtime (Bun, Deno): every task, an abort, a timeout, close,
// destroy and a worker file, from this checkout's build. `.ci/run` runs it with each; so can you:
// `bun .ci/runtimes.mjs`, `deno run -A .ci/runtimes.mjs`.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const { Pool } = require('../index.js')

const runtime = globalThis.Bun
  ? `Bun ${globalThis.Bun.version}`
  : globalThis.Deno
    ? `Deno ${globalThis.Deno.version.deno}`
    : `Node ${process.version}`
const pool = new Pool(2)

assert.equal(await pool.run(90, 'fib'), 2880067194370816120n)
assert.equal(await pool.run({ n: 10 }, 'fib'), 55)
assert.equal(await pool.run('abc', 'hash'), createHash('sha256').update('abc').digest('hex'))
assert.equal(await pool.run(Buffer.from('abc'), 'hash'), createHash('sha256').update('abc').digest('hex'))
const hash = await pool.run({ password: 'secret', cost: 4 }, 'hashPassword')
assert.equal(await pool.run({ password: 'secret', hash }, 'verifyPassword'), true)
assert.deepEqual((await pool.run({ input: 'a,b\n1,2', header: true, dynamicTyping: true }, 'parseCsv')).data, [
  { a: 1, b: 2 },
])
const gif = Buffer.from('R0lGODlhAQABAIAAAP8AAAAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64')
const { info } = await pool.run({ input: gif, width: 4, format: 'png', resolveWithObject: true }, 'resize')
assert.deepEqual([info.width, info.height, info.format], [4, 4, 'png'])

// A task that would run for ever, stopped by an abort and by a timeout; the pool goes on.
const endless = { n: 90, algorithm: 'recursive' }
const controller = new AbortController()
const aborted = pool.run(endless, { name: 'fib', signal: controller.signal })
setTimeout(() => controller.abort(), 20)
await assert.rejects(aborted, { code: 'ERR_ABORTED' })
await assert.rejects(pool.run(endless, { name: 'fib', timeout: 20 }), { code: 'ERR_TIMEOUT' })
assert.equal(await pool.run(20, 'fib'), 6765)

// close lets queued work finish; destroy rejects what is running.
const queued = pool.run(30, 'fib')
await pool.close()
assert.equal(await queued, 832040)
await assert.rejects(pool.run(1, 'fib'), { code: 'ERR_POOL_CLOSED' })
const doomed = new Pool(1)
const running = assert.rejects(doomed.run(endless, 'fib'), { code: 'ERR_POOL_CLOSED' })
await new Promise((resolve) => setTimeout(resolve, 20))
await doomed.destroy()
await running

// A worker file beside the native tasks.
const files = new Pool({ maxThreads: 2, filename: new URL('../examples/worker.js', import.meta.url).href })
assert.equal(await files.run(20, { name: 'fib' }), 6765)
assert.equal(
  (await files.run({ number: 1, lines: [{ item: 'tea', quantity: 2, unitPrice: 5 }] }, { name: 'invoice' })).total,
  10,
)
assert.equal(await files.run(20, 'fib'), 6765)
await files.close()

console.log(`cisterna: every task, abort, timeout, close, destroy and a worker file under ${runtime}`)
