'use strict'
// hash against node:crypto on the main thread (one big input; two in turn) and against
// Piscina running node:crypto in workers (many small inputs). Medians of RUNS runs.

const crypto = require('node:crypto')
const path = require('node:path')
const { Piscina } = require('piscina')
const { Pool } = require('..')
const { throughput, medianOf, now, report } = require('./harness.js')

const THREADS = 2
const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const BIG = 64 * 2 ** 20

async function timeMs(work) {
  const start = now()
  await work()
  return now() - start
}

async function main() {
  const pool = new Pool({ maxThreads: THREADS, minThreads: THREADS })
  const piscina = new Piscina({
    filename: path.join(__dirname, 'piscina-hash-worker.js'),
    maxThreads: THREADS,
    minThreads: THREADS,
  })
  const big = [crypto.randomBytes(BIG), crypto.randomBytes(BIG)]
  const nodeSha256 = (data) => crypto.createHash('sha256').update(data).digest('hex')
  const oursSha256 = (data) => pool.run({ data, algorithm: 'sha256' }, 'hash')
  /** Handed over (transferList), as big inputs should be: a fresh copy each time, made untimed. */
  const handOver = (owned) =>
    pool.run({ data: owned, algorithm: 'sha256' }, { name: 'hash', transferList: [owned.buffer] })
  const handedOverMs = async (...inputs) => {
    const owned = inputs.map((data) => Buffer.from(data))
    return timeMs(() => Promise.all(owned.map(handOver)))
  }

  console.log(`hash vs node:crypto and Piscina, ${THREADS} threads, median of ${RUNS} runs`)
  await oursSha256(big[0])
  const handedOver = await medianOf(RUNS, () => handedOverMs(big[0]))
  report({
    name: 'sha256 of 64 MiB, one task handed over',
    unit: 'ms',
    ours: handedOver,
    anchor: await medianOf(RUNS, () => timeMs(() => nodeSha256(big[0]))),
    anchorName: 'node:crypto',
    higherIsBetter: false,
    target: 1.0,
  })
  report({
    name: 'sha256 of 64 MiB, one task copied (the default) vs handed over',
    unit: 'ms',
    ours: await medianOf(RUNS, () => timeMs(() => oursSha256(big[0]))),
    anchor: handedOver,
    anchorName: 'handed over',
    higherIsBetter: false,
  })
  report({
    name: 'sha256 of 2 × 64 MiB handed over, 2 in flight vs in turn',
    unit: 'ms',
    ours: await medianOf(RUNS, () => handedOverMs(...big)),
    anchor: await medianOf(RUNS, () => timeMs(() => big.forEach(nodeSha256))),
    anchorName: 'node:crypto',
    higherIsBetter: false,
    target: 1.8,
  })

  const small = Array.from({ length: 1024 }, () => crypto.randomBytes(1024))
  const ours = (i) => pool.run({ data: small[i % small.length], algorithm: 'sha256' }, 'hash')
  const theirs = (i) => piscina.run({ data: small[i % small.length], algorithm: 'sha256' })
  const mainThread = async (i) => nodeSha256(small[i % small.length])
  await throughput(ours, 20_000, 256)
  await throughput(theirs, 5_000, 256)
  const oursRate = await medianOf(RUNS, () => throughput(ours, 200_000, 1024))
  report({
    name: 'sha256 of 1 KiB, 1024 in flight',
    unit: 'tasks/s',
    ours: oursRate,
    anchor: await medianOf(RUNS, () => throughput(theirs, 20_000, 1024)),
    anchorName: 'piscina',
    higherIsBetter: true,
    target: 10,
  })
  report({
    name: 'sha256 of 1 KiB (main thread, for scale)',
    unit: 'tasks/s',
    ours: oursRate,
    anchor: await medianOf(RUNS, () => throughput(mainThread, 200_000, 1)),
    anchorName: 'createHash',
    higherIsBetter: true,
  })
  await Promise.all([pool.close(), piscina.destroy()])
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
