'use strict'
// Worker files: the same JS functions under cisterna, Piscina and poolifier, 2 threads each,
// in one process: echoing small objects with thousands in flight, one task at a time after
// 5 ms idle, recursive fib(30) in JS; then native tasks on a pool with a worker file beside
// one without, and the memory of an idle pool with two JS workers (each in a process of its
// own). Each figure is the median of RUNS runs.

const { execFileSync } = require('node:child_process')
const path = require('node:path')
const { Piscina } = require('piscina')
const { FixedThreadPool } = require('poolifier')
const { Pool } = require('..')
const { throughput, latencies, medianOf, percentile, now, report } = require('./harness.js')

const THREADS = 2
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const WORKER = path.join(__dirname, 'js-worker.js')

/** Run alone in a child: RSS (MiB) of an idle pool whose two JS workers have started. */
async function idleRss(kind) {
  const pool =
    kind === 'cisterna'
      ? new Pool({ maxThreads: THREADS, minThreads: THREADS, filename: WORKER })
      : new Piscina({ maxThreads: THREADS, minThreads: THREADS, filename: WORKER })
  // Long enough that both threads take one: two workers start.
  await Promise.all([0, 1].map(() => pool.run(27, { name: 'fib' })))
  await new Promise((resolve) => setTimeout(resolve, 500))
  global.gc?.()
  await new Promise((resolve) => setTimeout(resolve, 200))
  process.stdout.write(String(process.memoryUsage().rss / 2 ** 20))
  await pool.destroy()
}

async function main() {
  const pool = new Pool({ maxThreads: THREADS, minThreads: THREADS, filename: WORKER })
  const piscina = new Piscina({ maxThreads: THREADS, minThreads: THREADS, filename: WORKER })
  const poolifier = new FixedThreadPool(THREADS, path.join(__dirname, 'poolifier-worker.js'))
  const task = (i) => ({ id: i, text: `task ${i}` })
  const echo = {
    cisterna: (i) => pool.run(task(i)),
    piscina: (i) => piscina.run(task(i)),
    poolifier: (i) => poolifier.execute(task(i), 'echo'),
  }
  for (const run of Object.values(echo)) await throughput(run, 20_000, 1024)

  console.log(`worker files: cisterna vs Piscina and poolifier, ${THREADS} threads each, median of ${RUNS} runs`)
  const inFlight = 4096
  const echoed = {}
  for (const [name, run] of Object.entries(echo)) {
    echoed[name] = await medianOf(RUNS, () => throughput(run, name === 'cisterna' ? 200_000 : 40_000, inFlight))
  }
  for (const anchorName of ['piscina', 'poolifier']) {
    report({
      name: `echo { id, text }, ${inFlight} in flight`,
      unit: 'tasks/s',
      ours: echoed.cisterna,
      anchor: echoed[anchorName],
      anchorName,
      higherIsBetter: true,
      target: anchorName === 'piscina' ? 6 : 3,
    })
  }

  const p50 = async (run) => percentile(await latencies(run, 200, 5), 50) * 1000
  report({
    name: 'one at a time after 5 ms idle: p50',
    unit: 'µs',
    ours: await medianOf(RUNS, () => p50(echo.cisterna)),
    anchor: await medianOf(RUNS, () => p50(echo.piscina)),
    anchorName: 'piscina',
    higherIsBetter: false,
    target: 2,
  })

  const eightFib30 = async (run) => {
    const start = now()
    await Promise.all(Array.from({ length: 8 }, () => run()))
    return now() - start
  }
  report({
    name: '8 × fib(30) in JS',
    unit: 'ms',
    ours: await medianOf(RUNS, () => eightFib30(() => pool.run(30, { name: 'fib' }))),
    anchor: await medianOf(RUNS, () => eightFib30(() => piscina.run(30, { name: 'fib' }))),
    anchorName: 'piscina',
    higherIsBetter: false,
    target: 1,
  })

  // Native tasks beside a worker file that is configured, its workers started and idle.
  const plain = new Pool({ maxThreads: THREADS, minThreads: THREADS })
  const native = (on) => (i) => on.run(i % 30, 'fib')
  await throughput(native(plain), 50_000, 1024)
  await throughput(native(pool), 50_000, 1024)
  report({
    name: 'native fib(n<30) with a worker file idle',
    unit: 'tasks/s',
    ours: await medianOf(RUNS, () => throughput(native(pool), 400_000, inFlight)),
    anchor: await medianOf(RUNS, () => throughput(native(plain), 400_000, inFlight)),
    anchorName: 'no worker file',
    higherIsBetter: true,
    target: 0.97,
  })
  await Promise.all([pool.close(), plain.close(), piscina.close(), poolifier.destroy()])

  const rss = (kind) =>
    Number(execFileSync(process.execPath, ['--expose-gc', __filename, 'rss', kind], { encoding: 'utf8' }))
  report({
    name: 'idle pool with 2 JS workers: RSS',
    unit: 'MiB',
    ours: await medianOf(RUNS, () => rss('cisterna')),
    anchor: await medianOf(RUNS, () => rss('piscina')),
    anchorName: 'piscina',
    higherIsBetter: false,
    target: 1,
  })
}

if (process.argv[2] === 'rss') idleRss(process.argv[3])
else main()
