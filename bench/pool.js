'use strict'
// The pool against Piscina, same thread count, same process: trivial tasks with thousands
// in flight, one-at-a-time latency (back to back, and after 5 ms idle), and CPU-bound
// recursive fib(35); then the everyday calls with an object or a Buffer beside the primitive
// one. Each figure is the median of RUNS runs.

const path = require('node:path')
const { Piscina } = require('piscina')
const { Pool } = require('..')
const { throughput, latencies, medianOf, percentile, now, report } = require('./harness.js')

const THREADS = 2
const RUNS = Number(process.env.BENCH_RUNS ?? 5)

async function main() {
  const pool = new Pool({ maxThreads: THREADS, minThreads: THREADS })
  const piscina = new Piscina({
    filename: path.join(__dirname, 'piscina-worker.js'),
    maxThreads: THREADS,
    minThreads: THREADS,
  })
  const ours = (i) => pool.run(i % 30, 'fib')
  const theirs = (i) => piscina.run({ n: i % 30 })
  // Warm both up (JIT, thread start).
  await throughput(ours, 20_000, 1024)
  await throughput(theirs, 5_000, 256)

  console.log(`pool vs Piscina, ${THREADS} threads each, median of ${RUNS} runs`)
  const inFlight = 4096
  report({
    name: `trivial fib(n<30), ${inFlight} in flight`,
    unit: 'tasks/s',
    ours: await medianOf(RUNS, () => throughput(ours, 400_000, inFlight)),
    anchor: await medianOf(RUNS, () => throughput(theirs, 40_000, inFlight)),
    anchorName: 'piscina',
    higherIsBetter: true,
    target: 40,
  })

  for (const gap of [0, 5]) {
    const count = gap === 0 ? 5_000 : 200
    const p50 = async (run) => percentile(await latencies(run, count, gap), 50) * 1000
    report({
      name: gap === 0 ? 'one at a time, back to back: p50' : 'one at a time after 5 ms idle: p50',
      unit: 'µs',
      ours: await medianOf(RUNS, () => p50(ours)),
      anchor: await medianOf(RUNS, () => p50(theirs)),
      anchorName: 'piscina',
      higherIsBetter: false,
      target: 2,
    })
  }

  const eightFib35 = async (run) => {
    const start = now()
    await Promise.all(Array.from({ length: 8 }, () => run()))
    return now() - start
  }
  report({
    name: '8 × recursive fib(35)',
    unit: 'ms',
    ours: await medianOf(RUNS, () => eightFib35(() => pool.run({ n: 35, algorithm: 'recursive' }, 'fib'))),
    anchor: await medianOf(RUNS, () => eightFib35(() => piscina.run({ n: 35, algorithm: 'recursive' }))),
    anchorName: 'piscina',
    higherIsBetter: false,
    target: 2,
  })

  // The everyday calls beside the primitive one: an options object and a 1 KiB Buffer are
  // decoded while `run` runs (the caller may change them after), then queued with the
  // tick's batch as primitives are.
  const bytes = Buffer.alloc(1024, 7)
  const primitive = (i) => pool.run(i % 30, 'fib')
  const everyday = {
    'run({ n }, fib)': (i) => pool.run({ n: i % 30 }, 'fib'),
    'run(1 KiB, hash)': () => pool.run(bytes, 'hash'),
  }
  for (const run of [primitive, ...Object.values(everyday)]) await throughput(run, 50_000, 1024)
  const primitiveRate = await medianOf(RUNS, () => throughput(primitive, 400_000, inFlight))
  for (const [name, run] of Object.entries(everyday)) {
    report({
      name: `${name}, ${inFlight} in flight`,
      unit: 'tasks/s',
      ours: await medianOf(RUNS, () => throughput(run, 400_000, inFlight)),
      anchor: primitiveRate,
      anchorName: 'run(n, fib)',
      higherIsBetter: true,
      target: 1 / 1.5,
    })
  }

  await Promise.all([pool.close(), piscina.destroy()])
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
