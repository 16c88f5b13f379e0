'use strict'
// One big task on the pool's idle threads: each job alone on a 1-thread pool, alone on a
// 2-thread pool (where it splits into parts the idle thread helps with), and two in flight
// on the 2-thread pool (where no thread is idle, so nothing is lent). Wall time of each,
// median of RUNS runs; the speed-up is 1-thread time / 2-thread time, and two in flight is
// held against one alone on one thread, which is what it cost before tasks could split.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Pool } = require('..')
const { photo, prng } = require('../fixtures/images')
const { medianOf, now } = require('./harness.js')

const RUNS = Number(process.env.BENCH_RUNS ?? 5)

/** A CSV of `rows` rows of 7 typical columns, one row in ten with a quoted field. */
function csv(rows) {
  const random = prng(1)
  const lines = ['id,name,amount,price,active,quantity,note']
  for (let i = 0; i < rows; i++) {
    const note = i % 10 === 0 ? '"quoted, with comma"' : 'plain text'
    const fields = [i, `name${i % 7}`, (random() * 1e4).toFixed(2), (random() * 100).toFixed(3)]
    lines.push([...fields, random() < 0.5, Math.floor(random() * 1000), note].join(','))
  }
  return Buffer.from(lines.join('\n'))
}

/** The 8000×6000 photo-like PNG, made once (it takes a while) and kept in the temp folder. */
async function bigPng() {
  const file = path.join(os.tmpdir(), 'cisterna-bench-8000x6000.png')
  if (!fs.existsSync(file)) fs.writeFileSync(file, await photo(8000, 6000, 'png'))
  return fs.readFileSync(file)
}

/** Milliseconds of `inFlight` runs of `job` at once. */
async function wall(pool, job, inFlight) {
  const start = now()
  await Promise.all(Array.from({ length: inFlight }, () => job(pool)))
  return now() - start
}

async function measure(job) {
  const one = new Pool({ maxThreads: 1, minThreads: 1 })
  const two = new Pool({ maxThreads: 2, minThreads: 2 })
  await wall(one, job, 1)
  await wall(two, job, 1)
  const figures = {
    alone1: await medianOf(RUNS, () => wall(one, job, 1)),
    alone2: await medianOf(RUNS, () => wall(two, job, 1)),
    two2: await medianOf(RUNS, () => wall(two, job, 2)),
  }
  await Promise.all([one.close(), two.close()])
  return figures
}

function row(name, { alone1, alone2, two2 }, speedUpTarget, twoTarget) {
  const speedUp = alone1 / alone2
  const twoCost = two2 / alone1
  const verdict = (ratio, met, target) => `${ratio.toFixed(2)}× (target ${target}: ${met ? 'met' : 'NOT met'})`
  console.log(
    `${name.padEnd(40)} 1 thread ${alone1.toFixed(0).padStart(5)} ms  2 threads ${alone2.toFixed(0).padStart(5)} ms` +
      `  speed-up ${verdict(speedUp, speedUp >= speedUpTarget, `≥ ${speedUpTarget}×`)}` +
      `  two in flight ${two2.toFixed(0).padStart(5)} ms = ${verdict(twoCost, twoCost <= twoTarget, `≤ ${twoTarget}×`)}`,
  )
}

async function main() {
  console.log(`one big task on a 1-thread and a 2-thread pool, median of ${RUNS} runs`)
  const blake3 = Buffer.alloc(256 << 20)
  for (let i = 0; i < blake3.length; i += 4096) blake3.writeUInt32LE((i * 2654435761) >>> 0, i)
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cisterna-parallel-')), 'blake3.bin')
  fs.writeFileSync(file, blake3)
  row(
    'blake3 of a 256 MiB file ({ path })',
    await measure((pool) => pool.run({ data: { path: file }, algorithm: 'blake3' }, 'hash')),
    1.7,
    1.2,
  )
  // run() copies a Buffer on the main thread before any thread starts: no thread helps with that.
  row(
    'blake3 of a 256 MiB Buffer (copied by run)',
    await measure((pool) => pool.run({ data: blake3, algorithm: 'blake3' }, 'hash')),
    1.7,
    1.2,
  )
  fs.rmSync(path.dirname(file), { recursive: true, force: true })

  const table = csv(600_000)
  row(
    'parseCsv of 600 000 rows × 7, columns',
    await measure((pool) =>
      pool.run({ input: table, header: true, dynamicTyping: true, output: 'columns' }, 'parseCsv'),
    ),
    1.3,
    1.5,
  )

  const png = await bigPng()
  row(
    'resize 8000×6000 PNG to 2000 wide PNG',
    await measure((pool) => pool.run({ input: png, width: 2000, format: 'png' }, 'resize')),
    1.3,
    1.2,
  )
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
