'use strict'
// `npm run bench:queue`: BullMQ jobs on one worker process (2 cores, concurrency 8, the same
// queue settings), cisterna's processor against BullMQ's sandboxed processor with worker
// threads doing the same work in JS (sharp for images), against a real Redis started here.
// The jobs are queued first; the time runs from the worker's start to the last completion.

const { spawn } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Queue } = require('bullmq')
const { photo, prng } = require('../fixtures/images.js')
const { startRedis } = require('../fixtures/redis.js')
const { median } = require('./harness.js')

const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const WORKER = path.join(__dirname, 'queue', 'worker.js')

async function scenarios(dir) {
  const jpeg = path.join(dir, 'photo.jpg')
  fs.writeFileSync(jpeg, await photo(2400, 1600, 'jpeg', { quality: 90 }))
  const random = prng(3)
  const files = Array.from({ length: 20 }, (_, i) => {
    const at = path.join(dir, `bytes-${i}.bin`)
    fs.writeFileSync(at, Buffer.from(Array.from({ length: 1 << 20 }, () => (random() * 256) | 0)))
    return at
  })
  return [
    {
      label: 'trivial jobs (the queue alone)',
      variants: ['inline', 'sandboxed', 'cisterna'],
      jobs: Array.from({ length: 2000 }, (_, i) => ({ name: 'trivial', data: i })),
      // cisterna has no task named trivial: fib of a tiny n is its cheapest task.
      forCisterna: (job) => ({ name: 'fib', data: job.data % 20 }),
    },
    {
      label: 'recursive fib(27)',
      variants: ['cisterna', 'sandboxed'],
      jobs: Array.from({ length: 1000 }, () => ({ name: 'fib', data: { n: 27, algorithm: 'recursive' } })),
    },
    {
      label: 'resize by path, 2400x1600 JPEG -> 480x320 file',
      variants: ['cisterna', 'sandboxed'],
      jobs: Array.from({ length: 1000 }, (_, i) => ({
        name: 'resize',
        data: {
          input: { path: jpeg },
          output: { path: path.join(dir, `out-${i % 16}.jpg`) },
          width: 480,
          height: 320,
          fit: 'cover',
        },
      })),
    },
    {
      label: 'sha256 of 1 MiB files by path',
      variants: ['cisterna', 'sandboxed'],
      jobs: Array.from({ length: 2000 }, (_, i) => ({
        name: 'hash',
        data: { data: { path: files[i % files.length] }, algorithm: 'sha256' },
      })),
    },
  ]
}

let queues = 0

/** Queues the jobs, starts one worker process, times it from ready to the last completion: jobs/s. */
async function measure(redis, variant, jobs) {
  const name = `bench-${++queues}`
  const queue = new Queue(name, { connection: redis.connection })
  await queue.addBulk(jobs.map((job) => ({ ...job, opts: { removeOnComplete: true } })))
  const child = spawn(process.execPath, [WORKER], {
    env: { ...process.env, VARIANT: variant, QUEUE: name, REDIS_PORT: String(redis.connection.port) },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const exited = new Promise((resolve) => child.once('exit', resolve))
  await new Promise((resolve) => child.stdout.on('data', (chunk) => /ready/.test(String(chunk)) && resolve()))
  const started = performance.now()
  for (;;) {
    const { wait, active, delayed, failed } = await queue.getJobCounts('wait', 'active', 'delayed', 'failed')
    if (failed > 0) throw new Error(`${variant}: ${failed} jobs failed`)
    if (wait + active + delayed === 0) break
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
  const seconds = (performance.now() - started) / 1000
  child.kill('SIGTERM')
  await exited
  await queue.obliterate({ force: true })
  await queue.close()
  return jobs.length / seconds
}

async function main() {
  const redis = await startRedis()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cisterna-bench-queue-'))
  try {
    console.log(
      `bench:queue: one worker process, concurrency 8, ${os.availableParallelism()} cores, median of ${RUNS} runs`,
    )
    const pad = (cells, widths) => cells.map((cell, i) => String(cell).padStart(widths[i])).join('  ')
    const widths = [48, 10, 10, 10, 8]
    console.log(pad(['jobs/s', 'cisterna', 'sandboxed', 'inline', 'ratio'], widths))
    for (const scenario of await scenarios(dir)) {
      const rates = {}
      for (const variant of scenario.variants) {
        const jobs =
          variant === 'cisterna' && scenario.forCisterna ? scenario.jobs.map(scenario.forCisterna) : scenario.jobs
        const runs = []
        for (let run = 0; run < RUNS; run++) runs.push(await measure(redis, variant, jobs))
        rates[variant] = median(runs)
      }
      const ratio = rates.cisterna / rates.sandboxed
      const cell = (variant) => (rates[variant] === undefined ? '' : rates[variant].toFixed(0))
      console.log(
        pad([scenario.label, cell('cisterna'), cell('sandboxed'), cell('inline'), `${ratio.toFixed(2)}x`], widths),
      )
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
    await redis.stop()
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
