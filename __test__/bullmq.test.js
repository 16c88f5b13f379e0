'use strict'
// cisterna/bullmq against a real Redis (Debian's redis-server, started here on a free port):
// jobs in bulk over two worker processes, one killed mid-work; failures, results, files,
// SIGTERM.

const test = require('ava')
const { spawn } = require('node:child_process')
const { createHash } = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Queue, QueueEvents, Worker } = require('bullmq')
const bcryptjs = require('bcryptjs')
const sharp = require('sharp')
const { Pool } = require('..')
const { cancelLostJobs, createProcessor, fromJobData, toJobResult } = require('cisterna/bullmq')
const { createLimits } = require('cisterna/limits')
const { parseQuietly } = require('../fixtures/papa.js')
const { photo } = require('../fixtures/images.js')
const { hasRedis, startRedis } = require('../fixtures/redis.js')

const WORKER = path.join(__dirname, '..', 'examples', 'queue', 'worker.js')
const available = hasRedis()
const redisTest = available ? test.serial : test.skip
if (!available) console.log('bullmq tests skipped: redis-server is not installed (apt-get install redis-server)')

let redis
let queues = 0
test.before(async () => {
  if (available) redis = await startRedis()
})
test.after.always(async () => {
  await redis?.stop()
})

const redisUrl = () => `redis://${redis.connection.host}:${redis.connection.port}`

/** A queue of its own for each test, with its events. */
async function freshQueue() {
  const name = `test-${++queues}`
  const queue = new Queue(name, { connection: redis.connection })
  const events = new QueueEvents(name, { connection: redis.connection })
  await events.waitUntilReady()
  return { name, queue, events, close: () => Promise.all([queue.close(), events.close()]) }
}

/** examples/queue/worker.js as its own process, with short locks; resolves once it is ready. */
function startWorker(queueName) {
  const child = spawn(process.execPath, [WORKER], {
    env: {
      ...process.env,
      REDIS_URL: redisUrl(),
      QUEUE: queueName,
      CONCURRENCY: '4',
      LOCK_MS: '2000',
      STALLED_MS: '1000',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr.on('data', (chunk) => (stderr += chunk))
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal, stderr })))
  const ready = new Promise((resolve, reject) => {
    child.stdout.on('data', (chunk) => /worker ready/.test(String(chunk)) && resolve())
    exited.then(({ code }) => reject(new Error(`the worker exited (${code}): ${stderr}`)))
  })
  return { child, exited, ready }
}

async function until(what, condition, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`never happened: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

function fibOf(n) {
  let [a, b] = [0n, 1n]
  for (let i = 0; i < n; i++) [a, b] = [b, a + b]
  return a
}

test('job data gets its Buffers back from their JSON form, and results fit in JSON', (t) => {
  const bytes = Buffer.from([0, 1, 255])
  const data = JSON.parse(JSON.stringify({ data: bytes, list: [bytes, 1], key: { nested: bytes }, algorithm: 'sha1' }))
  t.deepEqual(fromJobData(data), { data: bytes, list: [bytes, 1], key: { nested: bytes }, algorithm: 'sha1' })
  t.true(Buffer.isBuffer(fromJobData(data).key.nested))
  const lookalike = { type: 'Buffer', data: [1], extra: true }
  t.deepEqual(fromJobData(lookalike), lookalike, 'only exactly the JSON form of a Buffer')
  t.is(fromJobData('text'), 'text')

  t.is(toJobResult(2880067194370816120n), '2880067194370816120')
  t.true(Buffer.isBuffer(toJobResult(bytes)))
  const columns = { fields: ['n'], columns: [new Float64Array([1.5, 2])], meta: {} }
  t.deepEqual(toJobResult(columns), { fields: ['n'], columns: [[1.5, 2]], meta: {} })
  const when = new Date(0)
  t.is(toJobResult({ data: [{ when }] }).data[0].when, when, 'rows are not walked')
})

redisTest(
  '300 mixed jobs all complete right when the worker holding them is killed and another takes over',
  async (t) => {
    const { name, queue, close } = await freshQueue()
    const csv = 'id,name\n1,a\n2,"b, c"\n'
    const jobs = Array.from({ length: 300 }, (_, i) => {
      if (i % 3 === 0) return { name: 'hash', data: { data: Buffer.from(`payload ${i}`), algorithm: 'sha1' } }
      if (i % 3 === 1) return { name: 'fib', data: { n: 25 + (i % 5), algorithm: 'recursive' } }
      return { name: 'parseCsv', data: { input: `${csv}${i},z\n`, header: true, dynamicTyping: true } }
    })
    const added = await queue.addBulk(jobs.map((job) => ({ ...job, opts: { attempts: 3 } })))

    const first = startWorker(name)
    await first.ready
    await until('the first worker has done some jobs and holds others', async () => {
      const counts = await queue.getJobCounts('completed', 'active')
      return counts.completed >= 30 && counts.active > 0
    })
    first.child.kill('SIGKILL')
    const { signal } = await first.exited
    t.is(signal, 'SIGKILL')
    const second = startWorker(name)
    await second.ready
    await until('all 300 are completed', async () => (await queue.getJobCountByTypes('completed')) === 300, 90_000)

    for (const [i, { id }] of added.entries()) {
      const job = await queue.getJob(id)
      const { data } = jobs[i]
      let expected
      if (jobs[i].name === 'hash') expected = createHash('sha1').update(`payload ${i}`).digest('hex')
      else if (jobs[i].name === 'fib') expected = Number(fibOf(data.n))
      else expected = JSON.parse(JSON.stringify(parseQuietly(data.input, { header: true, dynamicTyping: true })))
      t.deepEqual(job.returnvalue, expected, `job ${i} (${jobs[i].name})`)
    }
    t.is(await queue.getJobCountByTypes('failed'), 0)
    second.child.kill('SIGTERM')
    t.is((await second.exited).code, 0)
    await close()
  },
)

redisTest(
  'bad data and unknown tasks fail after one attempt with their code; fib(90) is a decimal string',
  async (t) => {
    const { name, queue, events, close } = await freshQueue()
    const pool = new Pool(2)
    const worker = new Worker(name, createProcessor(pool), { connection: redis.connection, concurrency: 4 })
    const opts = { attempts: 5, backoff: { type: 'fixed', delay: 10 } }
    const bad = await queue.add('hash', { data: 'x', algorithm: 'md4' }, opts)
    const unknown = await queue.add('transcode', { input: 'x' }, opts)
    const big = await queue.add('fib', 90, opts)
    const bytes = await queue.add('hash', { data: Buffer.from('abc'), encoding: 'buffer' }, opts)
    await t.throwsAsync(bad.waitUntilFinished(events), { message: /ERR_INVALID_ARG/ })
    await t.throwsAsync(unknown.waitUntilFinished(events), { message: /ERR_UNKNOWN_TASK/ })
    t.is(await big.waitUntilFinished(events), '2880067194370816120')
    t.deepEqual(await bytes.waitUntilFinished(events), {
      type: 'Buffer',
      data: [...createHash('sha256').update('abc').digest()],
    })
    for (const job of [bad, unknown]) {
      const failed = await queue.getJob(job.id)
      t.is(failed.attemptsMade, 1, `${failed.name} was not retried`)
    }
    await worker.close()
    await pool.close()
    await close()
  },
)

redisTest(
  "the worker's limits: a job asking for more fails at once with its bound's code, each task has its deadline",
  async (t) => {
    const { name, queue, events, close } = await freshQueue()
    const pool = new Pool(2)
    const limits = createLimits({ bcryptMaxCost: 6, timeouts: { fib: 200 } })
    const worker = new Worker(name, createProcessor(pool, { limits }), { connection: redis.connection, concurrency: 4 })
    const opts = { attempts: 5, backoff: { type: 'fixed', delay: 10 } }
    const heavy = await queue.add('hashPassword', { password: 'p', cost: 31 }, opts)
    const stored = await queue.add('verifyPassword', { password: 'p', hash: bcryptjs.hashSync('p', 7) }, opts)
    const allowed = await queue.add('hashPassword', { password: 'p', cost: 6 }, opts)
    const endless = await queue.add('fib', { n: 90, algorithm: 'recursive' }, { attempts: 1 })
    await t.throwsAsync(heavy.waitUntilFinished(events), { message: /ERR_LIMIT_PASSWORD_COST/ })
    await t.throwsAsync(stored.waitUntilFinished(events), { message: /ERR_LIMIT_PASSWORD_COST/ })
    t.true(bcryptjs.compareSync('p', await allowed.waitUntilFinished(events)))
    await t.throwsAsync(endless.waitUntilFinished(events), { message: /ERR_TIMEOUT/ })
    for (const job of [heavy, stored]) t.is((await queue.getJob(job.id)).attemptsMade, 1, 'not retried')
    await worker.close()
    await pool.close()
    await close()
  },
)

redisTest("on a pool with a worker file, a job's name is one of its exports", async (t) => {
  const { name, queue, events, close } = await freshQueue()
  const pool = new Pool({ maxThreads: 2, filename: path.join(__dirname, '..', 'examples', 'worker.js') })
  const worker = new Worker(name, createProcessor(pool), { connection: redis.connection, concurrency: 4 })
  const invoice = await queue.add('invoice', { number: 7, lines: [{ item: 'tea', quantity: 3, unitPrice: 250 }] })
  const fib = await queue.add('fib', 20)
  const bad = await queue.add('invoice', { lines: 'none' }, { attempts: 3, backoff: { type: 'fixed', delay: 10 } })
  t.like(await invoice.waitUntilFinished(events), { subtotal: 750, total: 750 })
  t.is(await fib.waitUntilFinished(events), 6765)
  await t.throwsAsync(bad.waitUntilFinished(events), { message: /lines must be an array/ })
  t.is((await queue.getJob(bad.id)).attemptsMade, 1, 'ERR_INVALID_ARG is not retried')
  await worker.close()
  await pool.close()
  await close()
})

redisTest('a worker sent SIGTERM finishes its active jobs, closes, and leaves none active', async (t) => {
  const { name, queue, close } = await freshQueue()
  await queue.addBulk(Array.from({ length: 6 }, () => ({ name: 'fib', data: { n: 36, algorithm: 'recursive' } })))
  const worker = startWorker(name)
  await worker.ready
  await until('jobs are active', async () => (await queue.getActiveCount()) > 0)
  worker.child.kill('SIGTERM')
  const { code, stderr } = await worker.exited
  t.is(code, 0, stderr)
  t.is(await queue.getActiveCount(), 0)
  const completed = await queue.getCompleted()
  t.true(completed.length >= 1, 'the active jobs finished')
  for (const job of completed) t.is(job.returnvalue, 14930352)
  await close()
})

redisTest('jobs by path: resize file to file, hash of a 1 GiB file in flat memory, a missing file', async (t) => {
  const { name, queue, events, close } = await freshQueue()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cisterna-queue-'))
  const pool = new Pool(2)
  const progress = []
  const worker = new Worker(name, createProcessor(pool), { connection: redis.connection, concurrency: 2 })
  worker.on('progress', (_job, value) => progress.push(value))
  const input = path.join(dir, 'in.jpg')
  fs.writeFileSync(input, await photo(1200, 800, 'jpeg'))
  const output = path.join(dir, 'out.png')
  const big = path.join(dir, 'big.bin')
  const descriptor = fs.openSync(big, 'w')
  fs.writeSync(descriptor, Buffer.from('end'), 0, 3, (1 << 30) - 3)
  fs.closeSync(descriptor)
  const expected = createHash('sha256')
  for await (const chunk of fs.createReadStream(big, { highWaterMark: 1 << 20 })) expected.update(chunk)

  const resized = await queue.add('resize', {
    input: { path: input },
    output: { path: output },
    width: 300,
    format: 'png',
  })
  const rssBefore = process.memoryUsage.rss()
  let rssPeak = rssBefore
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 5)
  const hashed = await queue.add('hash', { data: { path: big }, algorithm: 'sha256' })
  const missing = await queue.add('hash', { data: { path: path.join(dir, 'nope') } }, { attempts: 1 })
  t.deepEqual(await resized.waitUntilFinished(events), {
    width: 300,
    height: 200,
    format: 'png',
    size: fs.statSync(output).size,
    channels: 3,
  })
  const metadata = await sharp(output).metadata()
  t.deepEqual([metadata.width, metadata.height], [300, 200])
  t.is(await hashed.waitUntilFinished(events), expected.digest('hex'))
  clearInterval(sampler)
  t.true(rssPeak - rssBefore < 64 << 20, `a 1 GiB file grew resident memory by ${(rssPeak - rssBefore) >> 20} MiB`)
  await t.throwsAsync(missing.waitUntilFinished(events), { message: /ERR_FILE_NOT_FOUND/ })
  t.true(progress.length >= 1, 'the 1 GiB digest reported its progress')
  t.true(
    progress.every((value) => Number.isInteger(value) && value >= 0 && value <= 100),
    progress.join(),
  )
  await worker.close()
  await pool.close()
  fs.rmSync(dir, { recursive: true, force: true })
  await close()
})

redisTest('cancelling a job through BullMQ, or losing its lock, aborts its task and frees the thread', async (t) => {
  const { name, queue, events, close } = await freshQueue()
  const pool = new Pool(1)
  const worker = new Worker(name, createProcessor(pool), { connection: redis.connection, concurrency: 2 })
  const endless = await queue.add('fib', { n: 90, algorithm: 'recursive' }, { attempts: 1 })
  await until(
    'the endless job runs',
    async () => (await queue.getActiveCount()) === 1 && pool.stats().fib.waitTime.count === 1,
  )
  t.true(worker.cancelJob(endless.id, 'stop'))
  await t.throwsAsync(endless.waitUntilFinished(events), { message: /ERR_ABORTED/ })
  const next = await queue.add('fib', 20)
  t.is(await next.waitUntilFinished(events), 6765, 'the one thread was freed')

  // A lock the worker could not renew: BullMQ says so with this event, and cancelLostJobs
  // stops the task, since another worker may take the job over.
  cancelLostJobs(worker)
  const lost = await queue.add('fib', { n: 90, algorithm: 'recursive' }, { attempts: 1 })
  await until('the second endless job runs', async () => pool.stats().fib.waitTime.count === 3)
  worker.emit('lockRenewalFailed', [lost.id])
  await t.throwsAsync(lost.waitUntilFinished(events), { message: /ERR_ABORTED/ })
  await worker.close()
  await pool.close()
  await close()
})
