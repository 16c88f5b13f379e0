'use strict'
// `npm run soak -- [--tasks N] [--pools N] [--workers N]`: a long mixed load, then pools made
// and closed and worker_threads terminated with work in flight. Fails (exit 1) if resident
// memory grows more than 20 % past the warm-up, or if any native thread is left behind.
// Run with --expose-gc (npm run soak does).
const fs = require('node:fs')
const { parseArgs } = require('node:util')
const { Worker } = require('node:worker_threads')
const { Pool } = require('..')

const { values: args } = parseArgs({
  options: {
    tasks: { type: 'string', default: '2000000' },
    pools: { type: 'string', default: '2000' },
    workers: { type: 'string', default: '200' },
  },
})
const TASKS = Number(args.tasks)
const POOLS = Number(args.pools)
const WORKERS = Number(args.workers)
const MAX_GROWTH = 1.2
const IN_FLIGHT = 512

const threadCount = () => fs.readdirSync('/proc/self/task').length
function settledRss() {
  global.gc?.()
  return process.memoryUsage.rss()
}
const mib = (bytes) => `${(bytes / 2 ** 20).toFixed(1)} MiB`

/** A 2×2 PNG made once: the resize tasks' input. */
const png = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAACXBIWXMAAAPoAAAD6AG1e1JrAAAAE0lEQVQImWP4z8DwnwGM/zMwAAAf7gP9qS/A4gAAAABJRU5ErkJggg==',
  'base64',
)
const csv = 'name,count\nalpha,1\nbeta,2\ngamma,3\n'
const kib = Buffer.alloc(1024, 7)
const big = Buffer.alloc(256 * 1024, 9)

/** The i-th task of the mix: mostly small, some bytes-heavy, a few of every other kind. */
function task(pool, i) {
  switch (i % 16) {
    case 0:
      return pool.run({ input: png, width: 1, format: 'png' }, 'resize')
    case 1:
      return pool.run(csv, 'parseCsv')
    case 2:
      return pool.run({ data: big, algorithm: 'blake3' }, 'hash')
    case 3:
      return i % 1024 === 3 ? pool.run({ password: 'pw', cost: 4 }, 'hashPassword') : pool.run(kib, 'hash')
    case 4: {
      const controller = new AbortController()
      const running = pool.run({ n: 25, algorithm: 'recursive' }, { name: 'fib', signal: controller.signal })
      controller.abort()
      return running.catch(() => {})
    }
    default:
      return pool.run(i % 90, 'fib')
  }
}

async function runTasks(pool, count) {
  let next = 0
  const lane = async () => {
    while (next < count) await task(pool, next++)
  }
  await Promise.all(Array.from({ length: IN_FLIGHT }, lane))
}

function terminateWithWorkInFlight() {
  const worker = new Worker(
    `const { Pool } = require(${JSON.stringify(require.resolve('..'))})
     const pool = new Pool(2)
     for (let i = 0; i < 5000; i++) pool.run(i % 2 ? 25 : { n: 30, algorithm: 'recursive' }, 'fib').catch(() => {})
     require('node:worker_threads').parentPort.postMessage('flooded')`,
    { eval: true },
  )
  return new Promise((resolve, reject) => {
    worker.once('error', reject)
    worker.once('message', () => worker.terminate().then(resolve, reject))
  })
}

async function main() {
  const threadsBefore = threadCount()
  const pool = new Pool(2)
  // Long enough for the heaps and caches to reach their working size.
  const warmUp = Math.min(Math.floor(TASKS / 2), Math.max(100_000, Math.floor(TASKS / 10)))
  await runTasks(pool, warmUp)
  const warmRss = settledRss()
  const started = performance.now()
  await runTasks(pool, TASKS - warmUp)
  const seconds = (performance.now() - started) / 1000
  const endRss = settledRss()
  await pool.close()
  const growth = endRss / warmRss
  console.log(
    `soak: ${TASKS} mixed tasks (${Math.round((TASKS - warmUp) / seconds)}/s); RSS ${mib(warmRss)} after the warm-up, ` +
      `${mib(endRss)} at the end (${((growth - 1) * 100).toFixed(1)} %)`,
  )

  for (let i = 0; i < POOLS; i++) {
    const short = new Pool({ maxThreads: 2, minThreads: 1 })
    await Promise.all([short.run(20, 'fib'), short.run('x', 'hash')])
    await (i % 2 ? short.close() : short.destroy())
  }
  for (let i = 0; i < WORKERS; i++) await terminateWithWorkInFlight()
  // Threads leave on their own once their pool has closed: give the last ones a moment.
  const deadline = Date.now() + 5_000
  while (threadCount() > threadsBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20))
  const threadsAfter = threadCount()
  console.log(
    `soak: ${POOLS} pools made and closed, ${WORKERS} workers terminated with work in flight; threads ${threadsBefore} before, ${threadsAfter} after`,
  )

  const problems = []
  if (growth > MAX_GROWTH) problems.push(`RSS grew ${((growth - 1) * 100).toFixed(1)} % past the warm-up`)
  if (threadsAfter > threadsBefore) problems.push(`${threadsAfter - threadsBefore} threads left behind`)
  console.log(problems.length === 0 ? 'soak: passed' : `soak: FAILED: ${problems.join('; ')}`)
  process.exitCode = problems.length === 0 ? 0 : 1
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
