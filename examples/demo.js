'use strict'
// `npm start`: every kind of work cisterna does, run twice while a 10 ms timer ticks on the
// main thread: once through the pool, once the usual way on the main thread. The timer's
// delay is what the rest of a server (its requests, its health checks) would wait.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { createHash } = require('node:crypto')
const bcryptjs = require('bcryptjs')
const Papa = require('papaparse')
const sharp = require('sharp')
const { Pool } = require('..')
const { photo } = require('../fixtures/images.js')

const TICK_MS = 10
/** Your own code on the same pool: a worker file, as Piscina runs them. */
const WORKER_FILE = path.join(__dirname, 'worker.js')

function fibInline(n) {
  return n < 2 ? n : fibInline(n - 1) + fibInline(n - 2)
}

/** Runs `work()` while a 10 ms timer ticks: its wall time, and the timer's worst delay. */
async function measure(work) {
  let last = performance.now()
  let worst = 0
  const timer = setInterval(() => {
    const now = performance.now()
    worst = Math.max(worst, now - last - TICK_MS)
    last = now
  }, TICK_MS)
  const start = performance.now()
  await work()
  const wall = performance.now() - start
  // One more tick, so a stretch blocked until the very end is counted.
  await new Promise((resolve) => setTimeout(resolve, TICK_MS * 2))
  clearInterval(timer)
  return { wall, worst: Math.max(0, worst) }
}

/** `count` copies of `job(i)` at once, so that a pool can spread them over its threads. */
const times = (count, job) => () => Promise.all(Array.from({ length: count }, (_, i) => job(i)))

async function main() {
  const pool = new Pool()
  const threads = pool.options.maxThreads
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'cisterna-demo-'))
  const images = await Promise.all([photo(2400, 1600, 'jpeg', { quality: 90 }), photo(1600, 1200, 'png')])
  const big = Buffer.alloc(32 * 2 ** 20, 1)
  // The pool's copies, made up front: each is handed over (transferList) and read in place.
  const handedOver = Array.from({ length: 8 }, () => Buffer.from(big))
  const csv = Array.from({ length: 60_000 }, (_, i) => `${i},name ${i % 50},${(i * 0.37).toFixed(2)},${i % 2 === 0}`)
  csv.unshift('id,name,amount,active')
  const csvText = csv.join('\n')

  const rows = [
    {
      task: 'fib: 8 × recursive fib(32)',
      pool: times(8, () => pool.run({ n: 32, algorithm: 'recursive' }, 'fib')),
      inline: times(8, async () => fibInline(32)),
      usual: 'JS on the main thread',
    },
    {
      task: 'your own JS: 8 × fib(32) from examples/worker.js',
      pool: times(8, () => pool.run(32, { filename: WORKER_FILE, name: 'fib' })),
      inline: times(8, async () => fibInline(32)),
      usual: 'JS on the main thread',
    },
    {
      task: 'hash: 8 × sha256 of 32 MiB',
      pool: times(8, (i) => pool.run(handedOver[i], { name: 'hash', transferList: [handedOver[i].buffer] })),
      inline: times(8, async () => createHash('sha256').update(big).digest('hex')),
      usual: 'node:crypto createHash',
    },
    {
      task: 'hashPassword: 4 × bcrypt cost 10',
      pool: times(4, () => pool.run({ password: 'correct horse', cost: 10 }, 'hashPassword')),
      inline: times(4, async () => bcryptjs.hashSync('correct horse', 10)),
      usual: 'bcryptjs hashSync',
    },
    {
      task: `parseCsv: 4 × ${(csvText.length / 2 ** 20).toFixed(1)} MB, header + dynamicTyping`,
      pool: times(4, () => pool.run({ input: csvText, header: true, dynamicTyping: true }, 'parseCsv')),
      inline: times(4, async () => Papa.parse(csvText, { header: true, dynamicTyping: true })),
      usual: 'Papa Parse',
    },
    {
      task: 'resize: a JPEG and a PNG photo to 640 wide, 4 times',
      pool: times(8, async (i) => {
        const image = await pool.run({ input: images[i % 2], width: 640, format: 'jpeg' }, 'resize')
        fs.writeFileSync(path.join(out, `photo-${i}.jpg`), image)
      }),
      inline: times(8, (i) =>
        sharp(images[i % 2])
          .resize({ width: 640 })
          .jpeg()
          .toBuffer(),
      ),
      usual: 'sharp (libvips threads)',
    },
  ]

  console.log(`cisterna demo: each job through a pool of ${threads} native threads, then the usual way,`)
  console.log(`while a ${TICK_MS} ms timer ticks on the main thread.\n`)
  const table = []
  for (const row of rows) {
    const ours = await measure(row.pool)
    const theirs = await measure(row.inline)
    table.push({
      job: row.task,
      'pool: time': `${ours.wall.toFixed(0)} ms`,
      'pool: timer late by': `${ours.worst.toFixed(1)} ms`,
      'usual way': row.usual,
      'usual: time': `${theirs.wall.toFixed(0)} ms`,
      'usual: timer late by': `${theirs.worst.toFixed(1)} ms`,
    })
  }
  console.table(table)
  console.log(`\nThe resized photos are in ${out}`)
  await pool.close()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
