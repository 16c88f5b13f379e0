'use strict'
// The napi boundary: no value handed to a native entry point may abort the process. Every
// entry point catches unwinds; here each is called, straight and through Pool, with values
// that once panicked underneath or could, and must return or throw an Error with a code.

const test = require('ava')
const { Pool } = require('..')
const { NativePool, DRAIN_CAPACITY, TASK_IN_ARENA, taskNames } = require('../lib/native.js')

const HOSTILE_NUMBERS = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 1e308, 2 ** 53]

/**
 * A NativePool as index.js drives it, with `end()`: close, then drain until the threads have
 * exited, which is what lets the process exit.
 */
function nativePool(config) {
  let wake
  const native = new NativePool(config, () => wake?.())
  const ids = new Uint32Array(DRAIN_CAPACITY)
  const kinds = new Uint8Array(DRAIN_CAPACITY)
  native.end = async () => {
    native.close()
    for (;;) {
      const woken = new Promise((resolve) => (wake = resolve))
      const [, exited] = native.drain(ids, kinds)
      if (exited) return
      await woken
    }
  }
  native.ids = ids
  native.kinds = kinds
  return native
}

/** Calls `call`; it may return or throw, but a throw must be an Error with a string code. */
function survives(t, what, call) {
  try {
    return call()
  } catch (error) {
    t.true(error instanceof Error, `${what} threw a non-Error`)
    t.is(typeof error.code, 'string', `${what}: ${error.message}`)
  }
}

test('new Pool({ idleTimeout: Infinity }) keeps its idle threads and works', async (t) => {
  const pool = new Pool({ maxThreads: 2, minThreads: 0, idleTimeout: Number.POSITIVE_INFINITY })
  t.is(pool.options.idleTimeout, Number.POSITIVE_INFINITY)
  t.is(await pool.run(10, 'fib'), 55)
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.true(pool.threads.length > 0, 'an idle thread never times out')
  t.is(await pool.run(20, 'fib'), 6765)
  await pool.close()
})

test('the constructor takes any number in its config without aborting', async (t) => {
  for (const value of HOSTILE_NUMBERS) {
    for (const key of ['idleTimeout', 'maxQueue']) {
      const config = { maxThreads: 1, minThreads: 0, idleTimeout: 1000, maxQueue: 10, niceIncrement: 0, [key]: value }
      const native = survives(t, `${key}: ${value}`, () => nativePool(config))
      await native?.end()
    }
  }
  survives(t, 'a wake that is no function', () => new NativePool({ maxThreads: 1 }, 42))
})

test('submit, cancel, drain and timesByTask take hostile batches and arguments without aborting', async (t) => {
  const native = nativePool({ maxThreads: 2, minThreads: 0, idleTimeout: 1000, maxQueue: 100, niceIncrement: 0 })
  const fib = 0
  const hash = taskNames().indexOf('hash')
  const inArena = (task, lengths, arena) =>
    native.submit(
      Uint32Array.from(lengths, (_, i) => 40 + i),
      new Uint32Array(lengths.length).fill(task),
      null,
      new Uint8Array(lengths.length).fill(TASK_IN_ARENA),
      lengths,
      arena,
    )
  const calls = {
    'bytes past the arena': () => inArena(hash, [8, 2 ** 32 - 1, 5000], new Uint8Array(16)),
    'arena bytes for a task that reads none': () => inArena(fib, [4], new Uint8Array(16)),
    'arena bytes without an arena': () => inArena(hash, [4], null),
    'arena lengths that are no numbers': () => inArena(hash, ['4', -1, HOSTILE_NUMBERS], new Uint8Array(16)),
    'arrays shorter than the data': () => native.submit(new Uint32Array(1), new Uint8Array(1), null, null, [1, 2]),
    'a task number past the registry': () => native.submit(Uint32Array.of(1), Uint8Array.of(255), null, null, [1]),
    'hostile priorities': () =>
      native.submit(
        Uint32Array.from(HOSTILE_NUMBERS, (_, i) => 10 + i),
        new Uint8Array(HOSTILE_NUMBERS.length).fill(fib),
        Float64Array.from(HOSTILE_NUMBERS),
        null,
        HOSTILE_NUMBERS.map(() => 5),
      ),
    'every flag bit': () => native.submit(Uint32Array.of(30), Uint8Array.of(fib), null, Uint8Array.of(255), [5]),
    'a repeated id': () => native.submit(Uint32Array.of(31, 31), Uint8Array.of(fib, fib), null, null, [5, 6]),
    'cancel of unknown ids': () => [0, 31, 2 ** 32 - 1].map((id) => native.cancel(id)),
    'hostile histogram bounds': () => native.timesByTask(HOSTILE_NUMBERS),
    'empty drain arrays': () => native.drain(new Uint32Array(0), new Uint8Array(0)),
    'drain arrays of different lengths': () => native.drain(new Uint32Array(3), new Uint8Array(1)),
  }
  for (const [what, call] of Object.entries(calls)) survives(t, what, call)
  // Whatever was accepted comes back, and the pool closes.
  await native.end()
  survives(t, 'drain after exit', () => native.drain(native.ids, native.kinds))
  survives(t, 'destroy after exit', () => native.destroy())
  survives(t, 'close after exit', () => native.close())
  t.pass()
})

test.serial('errors from inside the binding reach Pool callers as ERR_INTERNAL rejections, never throws', async (t) => {
  const pool = new Pool(1)
  // Sabotage the batch a submit reads, as a bug in index.js would: the native side refuses it.
  const original = NativePool.prototype.submit
  NativePool.prototype.submit = function (ids, tasks, priorities, flags, data) {
    return original.call(this, ids.subarray(0, 0), tasks, priorities, flags, data)
  }
  try {
    const error = await t.throwsAsync(pool.run(10, 'fib'))
    t.is(error.code, 'ERR_INTERNAL')
    t.regex(error.message, /batch arrays are too short/)
  } finally {
    NativePool.prototype.submit = original
  }
  t.is(await pool.run(10, 'fib'), 55, 'the pool goes on')
  await pool.close()
})
