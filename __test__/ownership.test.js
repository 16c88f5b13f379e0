'use strict'
// The pool owns the bytes it reads: copied within `run`, or handed over with `transferList`.
// Nothing a caller does with its own buffers afterwards may make a thread read freed memory.
const test = require('ava')
const path = require('node:path')
const { createHash } = require('node:crypto')
const { spawnSync } = require('node:child_process')
const { Pool } = require('..')
const { hold } = require('./helpers.js')

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex')

test('every task, input kind and way of taking the input away: the right result, and the process lives', (t) => {
  const child = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, 'fixtures', 'take-away.js')], {
    encoding: 'utf8',
    timeout: 100_000,
  })
  t.is(child.signal, null, `the child died of ${child.signal}`)
  t.is(child.status, 0, child.stderr)
  const lines = child.stdout.trim().split('\n')
  t.deepEqual(lines, ['done 100'], 'every case gave the result of an untouched copy')
})

test('a handed-over buffer is detached from the caller and read without a copy', async (t) => {
  const pool = new Pool(1)
  const bytes = Buffer.alloc(1 << 20, 3)
  const expected = sha256(bytes)
  const input = Buffer.from(bytes)
  const digest = pool.run(input, { name: 'hash', transferList: [input.buffer] })
  t.is(input.byteLength, 0, "the caller's view is detached at once, as after a transfer to a worker")
  t.is(await digest, expected)

  const array = new Float64Array(1024).fill(Math.PI)
  const arrayDigest = sha256(Buffer.from(array.buffer))
  t.is(await pool.run({ data: array, algorithm: 'sha256' }, { name: 'hash', transferList: [array] }), arrayDigest)
  t.is(array.length, 0, 'a view in transferList hands over its ArrayBuffer')
  await pool.close()
})

test('handed over, then collected: the pool keeps the memory until the task is done', async (t) => {
  const pool = new Pool(1)
  const blocker = hold(pool)
  let input = Buffer.alloc(4 << 20, 9)
  const expected = sha256(input)
  const digest = pool.run(input, { name: 'hash', transferList: [input.buffer] })
  input = null
  global.gc?.()
  blocker.release()
  t.is(await digest, expected)
  await pool.close()
})

test("memory that cannot move is shared or copied: a SharedArrayBuffer, Node's pooled small Buffers", async (t) => {
  const pool = new Pool(1)
  const small = Buffer.from('a small pooled buffer')
  t.true(small.buffer.byteLength > small.length, 'this Buffer shares its ArrayBuffer with others')
  t.is(await pool.run(small, { name: 'hash', transferList: [small.buffer] }), sha256('a small pooled buffer'))
  t.is(small.toString(), 'a small pooled buffer', 'the pool of small Buffers is never detached')

  const shared = new Uint8Array(new SharedArrayBuffer(64)).fill(5)
  t.is(await pool.run(shared, { name: 'hash', transferList: [shared.buffer] }), sha256(Buffer.alloc(64, 5)))
  t.is(shared.length, 64, 'shared memory cannot be detached')
  await pool.close()
})

test('a bad transferList is ERR_INVALID_ARG, and the caller keeps its buffers', async (t) => {
  const pool = new Pool(1)
  const input = Buffer.alloc(16)
  for (const transferList of ['not a list', [42], [{}], [input.buffer, null]]) {
    const error = await t.throwsAsync(pool.run(input, { name: 'hash', transferList }))
    t.is(error.code, 'ERR_INVALID_ARG', String(transferList))
  }
  t.is(input.length, 16)
  const error = await t.throwsAsync(
    pool.run({ input: Buffer.alloc(4), transform: () => {} }, { name: 'parseCsv', transferList: [] }),
  )
  t.is(error.code, 'ERR_INVALID_ARG', 'data that cannot be cloned cannot be handed over')
  await pool.close()
})
