'use strict'
const test = require('ava')
const os = require('node:os')
const { Pool } = require('..')
const { hold, eventually } = require('./helpers.js')

const codeOf = (code, ErrorClass = Error) => ({ code, instanceOf: ErrorClass })

test('new Pool() sizes itself from availableParallelism, as Piscina does', async (t) => {
  const pool = new Pool()
  const cores = os.availableParallelism()
  t.like(pool.options, {
    maxThreads: cores,
    minThreads: Math.max(Math.floor(cores / 2), 1),
    idleTimeout: 30_000,
    maxQueue: Infinity,
    niceIncrement: 0,
  })
  t.true(Object.isFrozen(pool.options))
  t.is(pool.threads.length, pool.options.minThreads, 'minThreads start at once')
  await pool.close()
})

test('new Pool(n) and new Pool({ ... }) fill the other options', async (t) => {
  const four = new Pool(4)
  t.is(four.options.maxThreads, 4)
  const custom = new Pool({ maxThreads: 3, minThreads: 0, idleTimeout: 10, maxQueue: 'auto' })
  t.like(custom.options, { maxThreads: 3, minThreads: 0, idleTimeout: 10, maxQueue: 9, niceIncrement: 0 })
  t.is(custom.threads.length, 0)
  const onlyMin = new Pool({ minThreads: 64 })
  t.is(onlyMin.options.maxThreads, 64, 'maxThreads grows to minThreads when only minThreads is given')
  await Promise.all([four.close(), custom.close(), onlyMin.close()])
})

test('invalid options throw ERR_INVALID_ARG at once', (t) => {
  for (const options of [
    0,
    -1,
    1.5,
    { maxThreads: 0 },
    { minThreads: -1 },
    { maxThreads: 2, minThreads: 3 },
    { idleTimeout: -5 },
    { idleTimeout: 'soon' },
    { maxQueue: -1 },
    { maxQueue: 'lots' },
    { niceIncrement: -1 },
    { niceIncrement: 20 },
    { niceIncrement: 2.5 },
  ]) {
    t.throws(() => new Pool(options), codeOf('ERR_INVALID_ARG', RangeError), JSON.stringify(options))
  }
  t.throws(() => new Pool('four'), codeOf('ERR_INVALID_ARG', TypeError))
  t.throws(() => new Pool(null), codeOf('ERR_INVALID_ARG', TypeError))
})

test('run resolves with the task result, by name or by options', async (t) => {
  const pool = new Pool(2)
  t.is(await pool.run(10, 'fib'), 55)
  t.is(await pool.run(20, { name: 'fib' }), 6765)
  t.deepEqual(pool.tasks, ['fib', 'hash', 'hashPassword', 'verifyPassword', 'parseCsv', 'resize'])
  await pool.close()
})

test('run never throws: every bad call is a coded rejection', async (t) => {
  const pool = new Pool(1)
  const calls = [
    [() => pool.run(1, 'nope'), 'ERR_UNKNOWN_TASK', TypeError],
    [() => pool.run(1), 'ERR_INVALID_ARG', TypeError],
    [() => pool.run(1, { name: 'fib', priority: 'high' }), 'ERR_INVALID_ARG', TypeError],
    [() => pool.run(1, { name: 'fib', timeout: -1 }), 'ERR_INVALID_ARG', RangeError],
    [() => pool.run(1, { name: 'fib', signal: {} }), 'ERR_INVALID_ARG', TypeError],
    [() => pool.run('one', 'fib'), 'ERR_INVALID_ARG', TypeError],
  ]
  for (const [call, code, ErrorClass] of calls) {
    let promise
    t.notThrows(() => (promise = call()))
    await t.throwsAsync(promise, codeOf(code, ErrorClass))
  }
  const unknown = await t.throwsAsync(pool.run(1, 'nope'))
  t.regex(unknown.message, /fib, hash/, 'the message lists the known tasks')
  await pool.close()
})

test('higher priority runs first, FIFO within a priority', async (t) => {
  const pool = new Pool({ maxThreads: 1, minThreads: 1 })
  const blocker = hold(pool)
  await eventually(t, () => pool.queueSize === 0, 'the blocker started')
  const order = []
  const queued = [
    ['low', -1],
    ['a', 0],
    ['high', 5],
    ['b', 0],
    ['higher', 9],
    ['c', 0],
  ].map(([name, priority]) => pool.run(5, { name: 'fib', priority }).then(() => order.push(name)))
  await eventually(t, () => pool.queueSize === 6, 'all six queued')
  blocker.release()
  await Promise.all(queued)
  t.deepEqual(order, ['higher', 'high', 'a', 'b', 'c', 'low'])
  await pool.close()
})

test('an already aborted signal rejects at once with an AbortError', async (t) => {
  const pool = new Pool(1)
  const reason = new Error('stop')
  const error = await t.throwsAsync(
    pool.run(5, { name: 'fib', signal: AbortSignal.abort(reason) }),
    codeOf('ERR_ABORTED'),
  )
  t.is(error.name, 'AbortError')
  t.is(error.cause, reason)
  await pool.close()
})

test('aborting a running task rejects it and frees its thread', async (t) => {
  const pool = new Pool({ maxThreads: 1, minThreads: 1 })
  const running = hold(pool)
  await eventually(t, () => pool.queueSize === 0, 'the task started')
  running.release()
  const error = await t.throwsAsync(running.promise, codeOf('ERR_ABORTED'))
  t.is(error.name, 'AbortError')
  t.is(await pool.run(30, 'fib'), 832040, 'the one thread is free again')
  await eventually(t, () => pool.completed === 2, 'the cancelled task counts as completed')
  await pool.close()
})

test('aborting a queued task removes it from the queue', async (t) => {
  const pool = new Pool({ maxThreads: 1, minThreads: 1 })
  const blocker = hold(pool)
  const controller = new AbortController()
  const queued = pool.run(10, { name: 'fib', signal: controller.signal })
  const later = pool.run(11, 'fib')
  await eventually(t, () => pool.queueSize === 2, 'two queued')
  controller.abort()
  await t.throwsAsync(queued, codeOf('ERR_ABORTED'))
  t.is(pool.queueSize, 1)
  blocker.release()
  t.is(await later, 89)
  await pool.close()
})

test('aborting in the same tick as run still aborts', async (t) => {
  const pool = new Pool(1)
  const controller = new AbortController()
  const promise = pool.run({ n: 90, algorithm: 'recursive' }, { name: 'fib', signal: controller.signal })
  controller.abort()
  await t.throwsAsync(promise, codeOf('ERR_ABORTED'))
  t.is(await pool.run(3, 'fib'), 2)
  await pool.close()
})

test('a timeout rejects a running task with ERR_TIMEOUT and stops its work', async (t) => {
  const pool = new Pool({ maxThreads: 1, minThreads: 1 })
  await t.throwsAsync(pool.run({ n: 90, algorithm: 'recursive' }, { name: 'fib', timeout: 30 }), codeOf('ERR_TIMEOUT'))
  t.is(await pool.run(12, 'fib'), 144, 'the thread was freed')
  await pool.close()
})

test('a timeout rejects a queued task too', async (t) => {
  const pool = new Pool({ maxThreads: 1, minThreads: 1 })
  const blocker = hold(pool)
  // Queued behind the blocker only once the thread runs it: on a loaded machine the thread
  // may take longer than the timeout to start.
  while (pool.queueSize > 0) await new Promise((resolve) => setTimeout(resolve, 1))
  await t.throwsAsync(pool.run(5, { name: 'fib', timeout: 20 }), codeOf('ERR_TIMEOUT'))
  t.is(pool.queueSize, 0)
  blocker.release()
  await pool.close()
})

test('a task that finishes in time is not touched by its timeout or signal', async (t) => {
  const pool = new Pool(1)
  const controller = new AbortController()
  t.is(await pool.run(25, { name: 'fib', timeout: 10_000, signal: controller.signal }), 75025)
  controller.abort()
  await pool.close()
})

test('maxQueue bounds the waiting tasks with ERR_QUEUE_FULL', async (t) => {
  const pool = new Pool({ maxThreads: 1, minThreads: 1, maxQueue: 2 })
  const blocker = hold(pool)
  await eventually(t, () => pool.queueSize === 0, 'the blocker started')
  const accepted = [pool.run(1, 'fib'), pool.run(2, 'fib')]
  await t.throwsAsync(pool.run(3, 'fib'), codeOf('ERR_QUEUE_FULL'))
  blocker.release()
  t.deepEqual(await Promise.all(accepted), [1, 1])
  await pool.close()
})

test('close lets queued and running tasks finish, then refuses and stops the threads', async (t) => {
  const pool = new Pool({ maxThreads: 2, minThreads: 2 })
  const results = Array.from({ length: 200 }, (_, i) => pool.run(i % 40, 'fib'))
  const closed = pool.close()
  await t.throwsAsync(pool.run(1, 'fib'), codeOf('ERR_POOL_CLOSED'))
  const values = await Promise.all(results)
  t.is(values[39], 63245986)
  await closed
  t.is(pool.threads.length, 0)
  t.is(pool.completed, 200)
  t.is(pool.close(), closed, 'close is idempotent')
})

test('destroy rejects queued and running tasks with ERR_POOL_CLOSED and stops the threads', async (t) => {
  const pool = new Pool({ maxThreads: 1, minThreads: 1 })
  const running = pool.run({ n: 90, algorithm: 'recursive' }, 'fib')
  const queued = Array.from({ length: 50 }, (_, i) => pool.run(i, 'fib'))
  await new Promise((resolve) => setImmediate(resolve))
  const destroyed = pool.destroy()
  await t.throwsAsync(running, codeOf('ERR_POOL_CLOSED'))
  for (const promise of queued) await t.throwsAsync(promise, codeOf('ERR_POOL_CLOSED'))
  await destroyed
  t.is(pool.threads.length, 0)
  await t.throwsAsync(pool.run(1, 'fib'), codeOf('ERR_POOL_CLOSED'))
  t.is(await pool.destroy(), undefined, 'destroy is idempotent')
})

test('destroy after close still cancels what is left', async (t) => {
  const pool = new Pool(1)
  const running = pool.run({ n: 90, algorithm: 'recursive' }, 'fib')
  const closed = pool.close()
  await pool.destroy()
  await closed
  await t.throwsAsync(running, codeOf('ERR_POOL_CLOSED'))
})

test('Symbol.asyncDispose closes the pool', async (t) => {
  const pool = new Pool(1)
  t.is(await pool.run(7, 'fib'), 13)
  await pool[Symbol.asyncDispose]()
  t.is(pool.threads.length, 0)
  await t.throwsAsync(pool.run(1, 'fib'), codeOf('ERR_POOL_CLOSED'))
})

test('threads start on demand up to maxThreads and idle ones leave down to minThreads', async (t) => {
  const pool = new Pool({ maxThreads: 3, minThreads: 1, idleTimeout: 30 })
  t.is(pool.threads.length, 1)
  const holders = [hold(pool), hold(pool), hold(pool), hold(pool)]
  await eventually(t, () => pool.threads.length === 3 && pool.queueSize === 1, 'three running, one queued')
  for (const holder of holders) holder.release()
  await Promise.allSettled(holders.map((h) => h.promise))
  await eventually(t, () => pool.threads.length === 1, 'idle threads above the minimum left')
  t.is(await pool.run(9, 'fib'), 34, 'the pool still works after shrinking')
  await pool.close()
})

test('completed, runTime, waitTime and utilization describe the work done', async (t) => {
  const pool = new Pool(2)
  t.is(pool.completed, 0)
  t.is(pool.runTime.count, 0)
  await Promise.all(Array.from({ length: 100 }, (_, i) => pool.run(i % 50, 'fib')))
  await pool.run({ n: 32, algorithm: 'recursive' }, 'fib')
  t.is(pool.completed, 101)
  for (const histogram of [pool.runTime, pool.waitTime]) {
    t.deepEqual(Object.keys(histogram).sort(), ['count', 'max', 'mean', 'min', 'p50', 'p90', 'p99', 'stddev', 'sum'])
    t.true(Math.abs(histogram.sum - histogram.mean * histogram.count) <= histogram.sum * 0.02 + 0.01)
    t.is(histogram.count, 101)
    t.true(histogram.min <= histogram.p50 && histogram.p50 <= histogram.p99 && histogram.p99 <= histogram.max)
  }
  t.true(pool.runTime.max > 1, 'the recursive fib(32) took more than a millisecond')
  t.true(pool.utilization > 0 && pool.utilization <= 1, String(pool.utilization))
  await pool.close()
})

test("needsDrain turns true with every thread promised a task, and 'drain' follows when one frees", async (t) => {
  const pool = new Pool({ maxThreads: 2, minThreads: 2 })
  const events = []
  pool.on('needsDrain', () => events.push(['needsDrain', pool.needsDrain]))
  pool.on('drain', () => events.push(['drain', pool.needsDrain, pool.queueSize]))
  const first = hold(pool)
  t.false(pool.needsDrain, 'one thread is still free')
  const second = hold(pool)
  t.true(pool.needsDrain, 'a third task would wait')
  await new Promise((resolve) => setImmediate(resolve))
  t.deepEqual(events, [['needsDrain', true]], "'needsDrain' once, after run returned")
  const queued = Array.from({ length: 100 }, (_, i) => pool.run(i % 30, 'fib'))
  first.release()
  await Promise.all(queued)
  await eventually(t, () => events.length === 2, "'drain'")
  t.deepEqual(events[1], ['drain', false, 0])
  second.release()
  await t.throwsAsync(second.promise)
  t.is(events.length, 2, 'no drain without a needsDrain before it')
  await pool.close()
})

test('threads lists one entry per live thread, numbered from 1', async (t) => {
  const pool = new Pool({ maxThreads: 3, minThreads: 2 })
  t.deepEqual(
    pool.threads.map((thread) => thread.threadId),
    [1, 2],
  )
  t.true(Object.isFrozen(pool.threads[0]))
  const holders = [hold(pool), hold(pool), hold(pool)]
  await eventually(t, () => pool.threads.length === 3, 'a third thread')
  t.is(pool.threads[2].threadId, 3)
  for (const holder of holders) holder.release()
  await pool.close()
  t.deepEqual(pool.threads, [])
})

test('maxThreads, minThreads and duration are read as Piscina has them', async (t) => {
  const pool = new Pool({ maxThreads: 3, minThreads: 1 })
  t.is(pool.maxThreads, 3)
  t.is(pool.minThreads, 1)
  const before = pool.duration
  await new Promise((resolve) => setTimeout(resolve, 30))
  t.true(pool.duration - before >= 25, `${before} → ${pool.duration}`)
  t.deepEqual(Object.keys(pool.histogram).sort(), ['runTime', 'waitTime'])
  await pool.close()
})

test('close({ force: true }) rejects queued tasks with ERR_POOL_CLOSED and lets the running one go on', async (t) => {
  const pool = new Pool({ maxThreads: 1, minThreads: 1 })
  const running = hold(pool)
  let runningSettled = false
  const settle = () => (runningSettled = true)
  running.promise.then(settle, settle)
  await eventually(t, () => pool.stats().fib.waitTime.count === 1, 'the held task started')
  const queued = Array.from({ length: 20 }, (_, i) => pool.run(i, 'fib'))
  const closed = pool.close({ force: true })
  for (const promise of queued) await t.throwsAsync(promise, codeOf('ERR_POOL_CLOSED'))
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.false(runningSettled, 'the running task was not cancelled')
  t.is(pool.threads.length, 1)
  running.release()
  await t.throwsAsync(running.promise, codeOf('ERR_ABORTED'))
  await closed
  t.is(pool.threads.length, 0)
  t.is(pool.close(), closed, 'a plain close after it is the same close')
  await t.throwsAsync(pool.run(1, 'fib'), codeOf('ERR_POOL_CLOSED'))
})

test('close() refuses options that are not { force: boolean }', async (t) => {
  const pool = new Pool(1)
  await t.throwsAsync(pool.close('now'), codeOf('ERR_INVALID_ARG', TypeError))
  await t.throwsAsync(pool.close({ force: 1 }), codeOf('ERR_INVALID_ARG', TypeError))
  t.is(await pool.run(5, 'fib'), 5, 'the pool still runs')
  await pool.close()
})

test('stats() counts each task by outcome and keeps its times apart from the others', async (t) => {
  const pool = new Pool(2)
  await Promise.all([
    ...Array.from({ length: 30 }, (_, i) => pool.run(i, 'fib')),
    ...Array.from({ length: 5 }, () => pool.run(Buffer.from('x'), 'hash')),
  ])
  await t.throwsAsync(pool.run(-1, 'fib'), codeOf('ERR_INVALID_ARG', RangeError))
  await t.throwsAsync(pool.run({ data: 'x', algorithm: 'nope' }, 'hash'), { code: 'ERR_INVALID_ARG' })
  const aborted = new AbortController()
  const holder = pool.run({ n: 90, algorithm: 'recursive' }, { name: 'fib', signal: aborted.signal })
  aborted.abort()
  await t.throwsAsync(holder, codeOf('ERR_ABORTED'))
  await pool.run({ n: 32, algorithm: 'recursive' }, 'fib')
  const stats = pool.stats({ buckets: [0.001, 1, 10_000] })
  t.deepEqual(Object.keys(stats), pool.tasks)
  t.deepEqual(stats.fib.outcomes, { ok: 31, ERR_INVALID_ARG: 1, ERR_ABORTED: 1 })
  t.deepEqual(stats.hash.outcomes, { ok: 5, ERR_INVALID_ARG: 1 })
  t.deepEqual(stats.resize.outcomes, { ok: 0 })
  t.is(stats.hash.runTime.count, 5, 'only tasks that ran are timed')
  t.is(stats.resize.runTime.count, 0)
  const fibRuns = stats.fib.runTime
  t.true(fibRuns.count >= 31 && fibRuns.count <= 32, `${fibRuns.count}: the aborted one may have started`)
  t.is(fibRuns.buckets.length, 3)
  t.true(fibRuns.buckets[0] <= fibRuns.buckets[1] && fibRuns.buckets[1] <= fibRuns.buckets[2])
  t.is(fibRuns.buckets[2], fibRuns.count, 'every run took less than 10 s')
  t.true(fibRuns.buckets[1] >= 30 && fibRuns.buckets[1] < fibRuns.count, 'fib(32) took over 1 ms, the rest under')
  t.is(pool.stats().fib.runTime.buckets, undefined)
  t.throws(() => pool.stats({ buckets: ['1'] }), codeOf('ERR_INVALID_ARG', TypeError))
  await pool.close()
})

test('many tasks in flight all resolve with the right values', async (t) => {
  const pool = new Pool(2)
  const expected = [0, 1]
  for (let i = 2; i < 70; i++) expected.push(expected[i - 1] + expected[i - 2])
  const results = await Promise.all(Array.from({ length: 100_000 }, (_, i) => pool.run(i % 70, 'fib')))
  t.true(results.every((value, i) => value === expected[i % 70]))
  await pool.close()
})
