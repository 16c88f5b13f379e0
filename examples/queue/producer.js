'use strict'
// Adds CPU jobs for examples/queue/worker.js. A job's name is the task, its data what
// pool.run takes; big inputs go by path, so the job stays small JSON.

const { Queue, QueueEvents } = require('bullmq')

const connection = { url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }
const queue = new Queue('cpu', { connection })
const events = new QueueEvents('cpu', { connection })

async function main() {
  await events.waitUntilReady()
  const jobs = await queue.addBulk([
    { name: 'fib', data: 90 },
    { name: 'hash', data: { data: Buffer.from('hello'), algorithm: 'sha256' } },
    { name: 'hash', data: { data: { path: __filename }, algorithm: 'blake3' } },
    { name: 'parseCsv', data: { input: 'a,b\n1,2', header: true, dynamicTyping: true } },
  ])
  for (const job of jobs) console.log(job.name, await job.waitUntilFinished(events))
  await Promise.all([queue.close(), events.close()])
}

main()
