'use strict'
// One worker process of `npm run bench:queue`: BullMQ's Worker with the processor named by
// VARIANT: `cisterna` (createProcessor on a pool), `sandboxed` (worker threads running
// sandboxed.js) or `inline` (a processor that returns its data: BullMQ's own ceiling).

const path = require('node:path')
const { Worker } = require('bullmq')
const { Pool } = require('cisterna')
const { createProcessor } = require('cisterna/bullmq')

const { VARIANT, QUEUE, REDIS_PORT } = process.env
const connection = { host: '127.0.0.1', port: Number(REDIS_PORT), maxRetriesPerRequest: null }
const options = { connection, concurrency: 8 }

let pool
let processor
if (VARIANT === 'cisterna') {
  pool = new Pool()
  processor = createProcessor(pool)
} else if (VARIANT === 'sandboxed') {
  processor = path.join(__dirname, 'sandboxed.js')
  options.useWorkerThreads = true
} else {
  processor = async (job) => job.data
}

const worker = new Worker(QUEUE, processor, options)
worker.on('ready', () => console.log('ready'))
process.once('SIGTERM', async () => {
  await worker.close()
  await pool?.close()
  process.exit(0)
})
