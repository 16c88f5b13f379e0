'use strict'
const test = require('ava')
const path = require('node:path')
const { pathToFileURL } = require('node:url')
const { Registry } = require('prom-client')
const { Pool } = require('..')
const { collectMetrics } = require('cisterna/prometheus')

/** Prometheus text as { 'name{labels}': value }, the way a scraper reads it. */
function parseExposition(text) {
  const samples = {}
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const space = line.lastIndexOf(' ')
    samples[line.slice(0, space)] = Number(line.slice(space + 1))
  }
  return samples
}

test('the metrics text counts every task by outcome and times them on the threads', async (t) => {
  const pool = new Pool({ maxThreads: 2, minThreads: 2 })
  const register = new Registry()
  collectMetrics(pool, { register, buckets: [0.001, 10] })
  await Promise.all(Array.from({ length: 40 }, (_, i) => pool.run(i, 'fib')))
  await pool.run({ n: 32, algorithm: 'recursive' }, 'fib')
  await Promise.all(Array.from({ length: 3 }, () => pool.run(Buffer.from('abc'), 'hash')))
  await t.throwsAsync(pool.run({ data: 'x', algorithm: 'md4' }, 'hash'))
  await t.throwsAsync(pool.run({ input: Buffer.from('not an image'), width: 10 }, 'resize'))

  const text = await register.metrics()
  const samples = parseExposition(text)
  t.is(samples['cisterna_tasks_total{task="fib",outcome="ok"}'], 41)
  t.is(samples['cisterna_tasks_total{task="hash",outcome="ok"}'], 3)
  t.is(samples['cisterna_tasks_total{task="hash",outcome="ERR_INVALID_ARG"}'], 1)
  t.is(samples['cisterna_tasks_total{task="resize",outcome="ERR_TASK_FAILED"}'], 1)
  t.is(samples['cisterna_task_duration_seconds_count{task="fib"}'], 41)
  t.is(samples['cisterna_task_duration_seconds_bucket{le="+Inf",task="fib"}'], 41)
  t.is(samples['cisterna_task_duration_seconds_bucket{le="10",task="fib"}'], 41)
  t.is(samples['cisterna_task_duration_seconds_bucket{le="0.001",task="fib"}'], 40, 'only fib(32) took over 1 ms')
  t.true(samples['cisterna_task_duration_seconds_sum{task="fib"}'] > 0.001)
  t.is(samples['cisterna_task_wait_seconds_count{task="hash"}'], 3, 'the refused md4 never waited')
  t.is(samples['cisterna_task_duration_seconds_count{task="resize"}'], 1, 'the bad image ran and failed')
  t.is(samples.cisterna_threads, 2)
  t.is(samples.cisterna_queue_size, 0)
  t.true(samples.cisterna_utilization_ratio > 0 && samples.cisterna_utilization_ratio <= 1)
  t.regex(text, /# TYPE cisterna_task_duration_seconds histogram/)
  t.regex(text, /# TYPE cisterna_tasks_total counter/)
  await pool.close()
})

test('two pools in one registry under two prefixes; bad buckets are ERR_INVALID_ARG', async (t) => {
  const [first, second] = [new Pool(1), new Pool(1)]
  const register = new Registry()
  collectMetrics(first, { register, prefix: 'images_' })
  collectMetrics(second, { register, prefix: 'reports_' })
  await second.run(3, 'fib')
  const samples = parseExposition(await register.metrics())
  t.is(samples['images_tasks_total{task="fib",outcome="ok"}'], 0)
  t.is(samples['reports_tasks_total{task="fib",outcome="ok"}'], 1)
  t.throws(() => collectMetrics(first, { register, buckets: [1, 0.5] }), { code: 'ERR_INVALID_ARG' })
  t.throws(() => collectMetrics(first, { register, prefix: 'images_' }), { message: /already been registered/ })
  await Promise.all([first.close(), second.close()])
})

test("a worker file's functions are labelled by their export's name", async (t) => {
  const workerFile = path.join(__dirname, '..', 'examples', 'worker.js')
  const pool = new Pool({ maxThreads: 2, filename: workerFile })
  t.teardown(() => pool.destroy())
  const register = new Registry()
  collectMetrics(pool, { register })
  await Promise.all(Array.from({ length: 5 }, (_, i) => pool.run(i, { name: 'fib' })))
  await t.throwsAsync(pool.run({ lines: 'none' }, { name: 'invoice' }), { code: 'ERR_INVALID_ARG' })
  await pool.run(10, 'fib')
  const samples = parseExposition(await register.metrics())
  // The file's fib shares its name with the native task: it is told apart by its file.
  t.is(samples[`cisterna_tasks_total{task="${pathToFileURL(workerFile).href}#fib",outcome="ok"}`], 5)
  t.is(samples['cisterna_tasks_total{task="fib",outcome="ok"}'], 1, 'the native fib')
  t.is(samples['cisterna_tasks_total{task="invoice",outcome="ERR_INVALID_ARG"}'], 1)
  t.is(samples['cisterna_task_duration_seconds_count{task="invoice"}'], 1)
})
