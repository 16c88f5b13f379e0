'use strict'
// A BullMQ worker whose CPU jobs run on a cisterna pool. Run as many as you like, on as
// many machines: `REDIS_URL=redis://127.0.0.1:6379 node examples/queue/worker.js`.
// SIGTERM finishes the active jobs, then closes the worker and the pool.

const { Worker } = require('bullmq')
const { Pool } = require('cisterna')
const { createProcessor, cancelLostJobs } = require('cisterna/bullmq')

const pool = new Pool()
const connection = { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', maxRetriesPerRequest: null }
const worker = new Worker(process.env.QUEUE ?? 'cpu', createProcessor(pool), {
  connection,
  concurrency: Number(process.env.CONCURRENCY ?? 8),
  // Short locks let another worker take over a dead one's jobs within seconds.
  lockDuration: Number(process.env.LOCK_MS ?? 30_000),
  stalledInterval: Number(process.env.STALLED_MS ?? 30_000),
})
cancelLostJobs(worker)
worker.on('ready', () => console.log('worker ready'))
worker.on('error', (error) => console.error(error.message))

process.once('SIGTERM', async () => {
  await worker.close()
  await pool.close()
  process.exit(0)
})
