'use strict'
// A BullMQ worker whose CPU jobs run on a cisterna pool. Run as many as you like, on as
// many machines: `REDIS_URL=redis://127.0.0.1:6379 node examples/queue/worker.js`.
// What a job's data may ask for (password costs, image sizes) and how long each task may run
// are the worker's policy, set by environment as for examples/server.js (BCRYPT_MAX_COST=11).
// SIGTERM finishes the active jobs, then closes the worker and the pool.

const { Worker } = require('bullmq')
const { Pool } = require('cisterna')
const { createProcessor, cancelLostJobs } = require('cisterna/bullmq')
const { createLimits, limitsFromEnv } = require('cisterna/limits')

const pool = new Pool()
const connection = { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', maxRetriesPerRequest: null }
const worker = new Worker(
  process.env.QUEUE ?? 'cpu',
  createProcessor(pool, { limits: createLimits(limitsFromEnv()) }),
  {
    connection,
    concurrency: Number(process.env.CONCURRENCY ?? 8),
    // Short locks let another worker take over a dead one's jobs within seconds.
    lockDuration: Number(process.env.LOCK_MS ?? 30_000),
    stalledInterval: Number(process.env.STALLED_MS ?? 30_000),
  },
)
cancelLostJobs(worker)
worker.on('ready', () => console.log('worker ready'))
worker.on('error', (error) => console.error(error.message))

process.once('SIGTERM', async () => {
  await worker.close()
  await pool.close()
  process.exit(0)
})
