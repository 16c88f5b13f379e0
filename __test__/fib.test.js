'use strict'
// fib against an independent reference in JavaScript BigInt, over generated and edge inputs.
const test = require('ava')
const { Pool } = require('..')

/** F(n) and F(n+1) by fast doubling in BigInt: a separate implementation to compare with. */
function reference(n) {
  if (n === 0n) return [0n, 1n]
  const [a, b] = reference(n / 2n)
  const c = a * (2n * b - a)
  const d = a * a + b * b
  return n % 2n === 0n ? [c, d] : [d, c + d]
}
const fibOf = (n) => reference(BigInt(n))[0]
const expectedJs = (n) => {
  const value = fibOf(n)
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value
}

let pool
test.before(() => {
  pool = new Pool(2)
})
test.after.always(() => pool.close())

test('F(0..400) equal the reference, numbers while safe then BigInts', async (t) => {
  const ns = Array.from({ length: 401 }, (_, n) => n)
  const results = await Promise.all(ns.map((n) => pool.run(n, 'fib')))
  for (const n of ns) t.is(results[n], expectedJs(n), `F(${n})`)
  t.is(typeof results[78], 'number', 'F(78) is the last safe integer')
  t.is(typeof results[79], 'bigint')
})

test('large and random n equal the reference', async (t) => {
  let seed = 12345
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31)
  const ns = [1000, 1023, 1024, 1025, 4096, 65_535, 100_000, ...Array.from({ length: 20 }, () => random() % 20_000)]
  for (const n of ns) t.is(await pool.run(n, 'fib'), expectedJs(n), `F(${n})`)
})

test('F(10⁶) is exact', async (t) => {
  const value = await pool.run(1_000_000, 'fib')
  t.is(typeof value, 'bigint')
  t.is(value.toString(2).length, 694_241)
  // The last digits of F(n) repeat with period 1.5·10ᵏ (Pisano): F(10⁶) ≡ F(10⁶ mod 1.5·10⁹).
  t.is(value % 10n ** 9n, fibOf(1_000_000) % 10n ** 9n)
})

test('a BigInt n gives a BigInt result', async (t) => {
  t.is(await pool.run(10n, 'fib'), 55n)
  t.is(await pool.run(0n, 'fib'), 0n)
  t.is(await pool.run({ n: 100n }, 'fib'), fibOf(100))
})

test('the recursive algorithm agrees with the default one', async (t) => {
  for (const n of [0, 1, 2, 10, 25, 30]) {
    t.is(await pool.run({ n, algorithm: 'recursive' }, 'fib'), expectedJs(n))
  }
  t.is(await pool.run({ n: 20n, algorithm: 'recursive' }, 'fib'), 6765n)
  t.is(await pool.run({ n: 50, algorithm: 'fast-doubling' }, 'fib'), expectedJs(50))
})

test('bad n is ERR_INVALID_ARG: TypeError for the wrong type, RangeError out of range', async (t) => {
  const cases = [
    [-1, RangeError],
    [1.5, RangeError],
    [NaN, RangeError],
    [Infinity, RangeError],
    [10_000_001, RangeError],
    [-1n, RangeError],
    [2n ** 64n, RangeError],
    [{ n: 94, algorithm: 'recursive' }, RangeError],
    [{ n: -3 }, RangeError],
    ['5', TypeError],
    [null, TypeError],
    [undefined, TypeError],
    [true, TypeError],
    [{}, TypeError],
    [{ n: '5' }, TypeError],
    [{ n: 5, algorithm: 'magic' }, TypeError],
    [{ n: 5, algorithm: 7 }, TypeError],
    [[5], TypeError],
    [Symbol('n'), TypeError],
  ]
  for (const [data, ErrorClass] of cases) {
    const error = await t.throwsAsync(
      pool.run(data, 'fib'),
      { code: 'ERR_INVALID_ARG' },
      String(
        typeof data === 'symbol' ? 'symbol' : JSON.stringify(data, (_, v) => (typeof v === 'bigint' ? `${v}n` : v)),
      ),
    )
    t.true(error instanceof ErrorClass, `${error.constructor.name}: ${error.message}`)
  }
})

test('the largest accepted n works', async (t) => {
  const value = await pool.run(10_000_000, 'fib')
  t.is(value.toString(16).length, Math.ceil(6_942_419 / 4))
})
