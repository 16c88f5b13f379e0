'use strict'
// The user's own worker files on the pool, to Piscina's documented contract: exports by name,
// CommonJS, ES modules and TypeScript, errors, crashes, timeouts and aborts, transfers both
// ways, worker options, and native tasks beside them on one engine.

const test = require('ava')
const path = require('node:path')
const { pathToFileURL } = require('node:url')
const { Pool, move, isWorkerThread, workerData } = require('..')

const fixture = (name) => path.join(__dirname, 'fixtures', 'workers', name)
const TASKS = fixture('tasks.js')

/** A pool on the tasks fixture, closed when the test ends. */
function poolFor(t, options = {}) {
  const pool = new Pool({ maxThreads: 2, filename: TASKS, ...options })
  t.teardown(() => pool.destroy())
  return pool
}

test('the default export runs, and a named one by name', async (t) => {
  const pool = poolFor(t)
  t.deepEqual(await pool.run({ id: 7, text: 'hi', nested: [1, { deep: true }] }), {
    id: 7,
    text: 'hi',
    nested: [1, { deep: true }],
  })
  t.is(await pool.run({ a: 2, b: 3 }, { name: 'add' }), 5)
  t.is(await pool.run({ a: 2, b: 40 }, { name: 'addLater' }), 42)
})

test('data crosses by the structured-clone rules, as postMessage takes it', async (t) => {
  const pool = poolFor(t)
  const data = { when: new Date(0), pattern: /x+/g, map: new Map([[1, 'one']]), set: new Set([2]), big: 10n ** 20n }
  const echoed = await pool.run(data)
  t.deepEqual(echoed, data)
  t.true(echoed.when instanceof Date)
  await t.throwsAsync(pool.run({ fn() {} }), { code: 'ERR_INVALID_ARG', message: /cloned/ })
  await t.throwsAsync(pool.run(null, { name: 'unclonable' }), { code: 'ERR_INVALID_ARG', message: /cloned/ })
})

test('an ES module with top-level await, by path and by file: URL, default and named', async (t) => {
  const pool = poolFor(t, { filename: fixture('module.mjs') })
  t.is(await pool.run(21), 42)
  t.is(await pool.run(5, { name: 'negate' }), -5)
  t.is(await pool.run(1, { name: 'later', filename: pathToFileURL(fixture('module.mjs')).href }), 2)
  t.is(await pool.run(1, { name: 'later', filename: pathToFileURL(fixture('module.mjs')) }), 2)
})

test('an export that is a Promise of the function', async (t) => {
  const pool = poolFor(t, { filename: fixture('promised.js') })
  t.is(await pool.run(3), 'promised 3')
})

test('TypeScript worker files run where Node strips types', async (t) => {
  if (!process.features.typescript) {
    t.pass('this Node does not run TypeScript by itself')
    return
  }
  const pool = poolFor(t, { filename: fixture('typed.ts') })
  t.is(await pool.run({ x: 3, y: 4 }), 5)
})

test('run names its own file; a missing export or file rejects, and the pool goes on', async (t) => {
  const pool = new Pool({ maxThreads: 2 })
  t.teardown(() => pool.destroy())
  t.is(await pool.run({ a: 1, b: 2 }, { filename: TASKS, name: 'add' }), 3)
  await t.throwsAsync(pool.run(1, { filename: TASKS, name: 'nothing' }), { code: 'ERR_UNKNOWN_TASK' })
  await t.throwsAsync(pool.run(1, { filename: fixture('absent.js') }), { code: 'ERR_MODULE_NOT_FOUND' })
  await t.throwsAsync(pool.run(1, { filename: 'relative.js' }), { code: 'ERR_INVALID_ARG' })
  t.is(await pool.run({ a: 1, b: 1 }, { filename: TASKS, name: 'add' }), 2)
})

test('one rule for names: a string is a native task, options name an export of the file in effect', async (t) => {
  const pool = poolFor(t)
  t.is(await pool.run(10, 'fib'), 55)
  t.is(await pool.run(10, { name: 'fib' }), 'the worker file')
  t.is(await pool.run(10, { name: 'fib', filename: null }), 55)
  const plain = new Pool({ maxThreads: 1 })
  t.teardown(() => plain.destroy())
  t.is(await plain.run(10, { name: 'fib' }), 55)
})

test('a thrown error keeps its class, name, message, stack, code and own properties', async (t) => {
  const pool = poolFor(t)
  const error = await t.throwsAsync(pool.run(null, { name: 'throws' }))
  t.true(error instanceof RangeError)
  t.is(error.name, 'RangeError')
  t.is(error.message, 'out of range in the worker')
  t.is(error.code, 'E_WORKER')
  t.deepEqual(error.detail, { at: 3 })
  t.true(error.stack.includes('tasks.js'), error.stack)
  const rejected = await t.throwsAsync(pool.run(null, { name: 'rejects' }))
  t.true(rejected instanceof TypeError)
  t.is(rejected.message, 'rejected in the worker')
  t.is(await pool.run(null, { name: 'throwsText' }).catch((thrown) => thrown), 'a string, not an Error')
  t.is(await pool.run({ a: 1, b: 2 }, { name: 'add' }), 3)
})

test('a worker that exits or crashes fails only its task with a code, and is replaced', async (t) => {
  const pool = poolFor(t)
  let created = 0
  let destroyed = 0
  pool.on('workerCreate', () => created++)
  pool.on('workerDestroy', () => destroyed++)
  const exited = await t.throwsAsync(pool.run(null, { name: 'exits' }))
  t.is(exited.code, 'ERR_WORKER_EXITED')
  t.regex(exited.message, /code 3/)
  const crashed = await t.throwsAsync(pool.run(null, { name: 'crashesLater' }))
  t.is(crashed.message, 'uncaught in the worker')
  t.is(crashed.code, 'ERR_WORKER_EXITED')
  const results = await Promise.all([1, 2, 3, 4].map((a) => pool.run({ a, b: 1 }, { name: 'add' })))
  t.deepEqual(results, [2, 3, 4, 5])
  t.true(destroyed >= 2)
  t.true(created >= destroyed)
})

test('a worker that throws while it runs no task is the pool’s error event, and is replaced', async (t) => {
  const pool = poolFor(t, { maxThreads: 1 })
  const error = new Promise((resolve) => pool.once('error', resolve))
  // An idle worker keeps no process alive: this test's does, until the error comes.
  const alive = setInterval(() => {}, 1000)
  t.is(await pool.run(null, { name: 'throwsAfter' }), 'settled')
  const thrown = await error
  clearInterval(alive)
  t.true(thrown instanceof Error)
  t.is(thrown.message, 'thrown after the task')
  t.is(await pool.run({ a: 1, b: 2 }, { name: 'add' }), 3)
})

test('running out of resourceLimits fails the task with Node’s code, and the pool goes on', async (t) => {
  const pool = poolFor(t, { resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 } })
  await t.throwsAsync(pool.run(null, { name: 'hog' }), { code: 'ERR_WORKER_OUT_OF_MEMORY' })
  t.is(await pool.run({ a: 2, b: 2 }, { name: 'add' }), 4)
})

test('timeout stops an infinite loop: the task rejects and its worker is replaced', async (t) => {
  const pool = poolFor(t, { maxThreads: 1 })
  await t.throwsAsync(pool.run(null, { name: 'spins', timeout: 50 }), { code: 'ERR_TIMEOUT' })
  t.is(await pool.run({ a: 3, b: 4 }, { name: 'add' }), 7)
})

test('an abort reaches the running function through its signal; a queued task never runs', async (t) => {
  const pool = poolFor(t, { maxThreads: 1 })
  const messages = []
  const message = () => new Promise((resolve) => pool.once('message', resolve)).then((m) => messages.push(m))
  const started = message()
  const controller = new AbortController()
  const running = pool.run('first', { name: 'waitsForAbort', signal: controller.signal })
  const queued = new AbortController()
  const waiting = pool.run({ a: 1, b: 1 }, { name: 'add', signal: queued.signal })
  queued.abort()
  await t.throwsAsync(waiting, { code: 'ERR_ABORTED' })
  await started
  const saw = message()
  controller.abort()
  await t.throwsAsync(running, { code: 'ERR_ABORTED' })
  await saw
  t.deepEqual(messages, [{ started: 'first' }, { sawAbort: 'first' }])
  t.is(await pool.run({ a: 1, b: 2 }, { name: 'add' }), 3)
})

test('move() and transferList hand buffers over without a copy, both ways', async (t) => {
  const pool = poolFor(t)
  const bytes = new Uint8Array(1024).fill(7)
  t.is(await pool.run(move(bytes), { name: 'byteLength' }), 1024)
  t.is(bytes.byteLength, 0, 'the caller’s buffer was transferred')
  const buffer = new ArrayBuffer(64)
  t.is(await pool.run(buffer, { name: 'byteLength', transferList: [buffer] }), 64)
  t.is(buffer.byteLength, 0)
  const filled = await pool.run({ size: 4096, value: 9 }, { name: 'filled' })
  t.true(filled instanceof Uint8Array)
  t.is(filled.length, 4096)
  t.true(filled.every((byte) => byte === 9))
})

test('worker options: workerData, env, argv and execArgv reach the worker', async (t) => {
  const pool = poolFor(t, {
    workerData: { shared: [1, 2] },
    env: { CISTERNA_TEST_VAR: 'from the pool' },
    argv: ['--answer', '42'],
    execArgv: ['--no-warnings'],
  })
  t.deepEqual(await pool.run(null, { name: 'context' }), {
    isWorkerThread: true,
    workerData: { shared: [1, 2] },
    env: 'from the pool',
    argv: ['--answer', '42'],
    execArgv: ['--no-warnings'],
  })
  t.false(isWorkerThread)
  t.is(workerData, undefined)
})

test('a worker’s own messages are the pool’s message events', async (t) => {
  const pool = poolFor(t)
  const message = new Promise((resolve) => pool.once('message', resolve))
  t.true(await pool.run({ hello: 'main' }, { name: 'post' }))
  t.deepEqual(await message, { hello: 'main' })
})

test('options is a record with no prototype, untouched by a polluted Object.prototype', (t) => {
  Object.prototype.filename = '/polluted.js'
  Object.prototype.maxThreads = 99
  try {
    const pool = new Pool({ maxThreads: 2 })
    t.teardown(() => pool.destroy())
    t.is(Object.getPrototypeOf(pool.options), null)
    t.is(pool.options.filename, null)
    t.is(pool.options.maxThreads, 2)
  } finally {
    delete Object.prototype.filename
    delete Object.prototype.maxThreads
  }
})

test('Piscina options that mean nothing here are refused with why', (t) => {
  for (const options of [
    { concurrentTasksPerWorker: 2 },
    { atomics: 'sync' },
    { useAtomics: true },
    { recordTiming: false },
    { closeTimeout: 100 },
    { loadBalancer: () => null },
    { taskQueue: {} },
  ]) {
    const error = t.throws(() => new Pool(options), { code: 'ERR_INVALID_ARG' })
    t.regex(error.message, new RegExp(Object.keys(options)[0]))
  }
  for (const options of [{ concurrentTasksPerWorker: 1 }, { atomics: 'disabled' }, { recordTiming: true }]) {
    new Pool(options).destroy()
  }
  t.throws(() => new Pool({ filename: 'relative.js' }), { code: 'ERR_INVALID_ARG' })
  t.throws(() => new Pool({ argv: 'no' }), { code: 'ERR_INVALID_ARG' })
})

test('maxThreads bounds JS tasks as it bounds native ones', async (t) => {
  const pool = poolFor(t)
  const counter = new Int32Array(new SharedArrayBuffer(8))
  const running = Array.from({ length: 12 }, () => pool.run({ counter, ms: 10 }, { name: 'concurrent' }))
  running.push(...Array.from({ length: 12 }, (_, i) => pool.run(i, 'fib')))
  await Promise.all(running)
  t.is(Atomics.load(counter, 0), 0)
  t.true(Atomics.load(counter, 1) <= 2, `at most 2 at once, saw ${Atomics.load(counter, 1)}`)
})

test('one priority queue for JS and native tasks', async (t) => {
  const pool = poolFor(t, { maxThreads: 1 })
  const order = []
  const counter = new Int32Array(new SharedArrayBuffer(8))
  const blocker = pool.run({ counter, ms: 50 }, { name: 'concurrent' })
  const low = pool.run({ a: 0, b: 1 }, { name: 'add', priority: -1 }).then(() => order.push('js low'))
  const native = pool.run(10, { name: 'fib', filename: null, priority: 1 }).then(() => order.push('native high'))
  const high = pool.run({ a: 0, b: 2 }, { name: 'add', priority: 2 }).then(() => order.push('js higher'))
  await Promise.all([blocker, low, native, high])
  t.deepEqual(order, ['js higher', 'native high', 'js low'])
})

test('stats() counts a worker file’s tasks under its export’s name', async (t) => {
  const pool = poolFor(t)
  await pool.run({ a: 1, b: 2 }, { name: 'add' })
  await pool.run(null, { name: 'throws' }).catch(() => {})
  await pool.run(5, 'fib')
  await pool.run(5, { name: 'fib' })
  const stats = pool.stats()
  t.is(stats.add.outcomes.ok, 1)
  t.is(stats.add.runTime.count, 1)
  t.is(stats.throws.outcomes.E_WORKER, 1)
  t.is(stats.fib.outcomes.ok, 1, 'the native fib')
  t.is(stats[`${pathToFileURL(TASKS).href}#fib`].outcomes.ok, 1, 'the worker file’s fib')
})

test('close waits for running JS tasks and ends every worker; destroy stops a spinning one', async (t) => {
  const pool = new Pool({ maxThreads: 2, filename: TASKS })
  let created = 0
  let destroyed = 0
  pool.on('workerCreate', () => created++)
  pool.on('workerDestroy', () => destroyed++)
  const later = pool.run({ a: 1, b: 1 }, { name: 'addLater' })
  await pool.close()
  t.is(await later, 2)
  t.true(created >= 1)
  t.is(destroyed, created)

  const spinning = new Pool({ maxThreads: 1, filename: TASKS })
  const spin = spinning.run(null, { name: 'spins' })
  await new Promise((resolve) => setTimeout(resolve, 50))
  await spinning.destroy()
  await t.throwsAsync(spin, { code: 'ERR_POOL_CLOSED' })
})

test('close({ force: true }) rejects queued JS tasks with ERR_POOL_CLOSED; the running one goes on until it ends', async (t) => {
  const pool = new Pool({ maxThreads: 1, filename: TASKS })
  const started = new Promise((resolve) => pool.once('message', resolve))
  const controller = new AbortController()
  const running = pool.run('only', { name: 'waitsForAbort', signal: controller.signal })
  const queued = [1, 2, 3].map((a) => pool.run({ a, b: 1 }, { name: 'add' }))
  await started
  const closed = pool.close({ force: true })
  for (const task of queued) await t.throwsAsync(task, { code: 'ERR_POOL_CLOSED' })
  await t.throwsAsync(pool.run({ a: 1, b: 1 }, { name: 'add' }), { code: 'ERR_POOL_CLOSED' })
  controller.abort()
  await t.throwsAsync(running, { code: 'ERR_ABORTED' })
  await closed
  t.is(pool.workers.length, 0)
})

test('100k mixed JS and native tasks under random aborts: every promise settles once, no worker left', async (t) => {
  const pool = new Pool({ maxThreads: 2, filename: TASKS })
  let created = 0
  let destroyed = 0
  pool.on('workerCreate', () => created++)
  pool.on('workerDestroy', () => destroyed++)
  let seed = 42
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed / 2 ** 31
  }
  const settled = new Uint8Array(100_000)
  const runs = []
  for (let i = 0; i < 100_000; i++) {
    const controller = new AbortController()
    const js = random() < 0.5
    const running = js
      ? pool.run({ a: i, b: 1 }, { name: 'add', signal: controller.signal })
      : pool.run(i % 20, { name: 'fib', filename: null, signal: controller.signal })
    runs.push(
      running.then(
        (value) => {
          settled[i]++
          if (js && value !== i + 1) t.fail(`task ${i} gave ${value}`)
        },
        (error) => {
          settled[i]++
          if (error.code !== 'ERR_ABORTED') t.fail(`task ${i} failed with ${error.code}`)
        },
      ),
    )
    const chance = random()
    if (chance < 0.05) controller.abort()
    else if (chance < 0.1) setTimeout(() => controller.abort(), 0)
    if (i % 10_000 === 0) await new Promise((resolve) => setImmediate(resolve))
  }
  await Promise.all(runs)
  t.true(settled.every((count) => count === 1))
  await pool.close()
  t.is(destroyed, created, 'every worker ended')
  t.is(pool.threads.length, 0)
})
