'use strict'
// hash against node:crypto, byte for byte, over sizes, input kinds, encodings and keys.
const test = require('ava')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Pool } = require('..')
const { abortRuns } = require('./helpers.js')

const NODE_ALGORITHMS = ['md5', 'sha1', 'sha224', 'sha256', 'sha384', 'sha512', 'sha3-256', 'sha3-512', 'blake2b512']
// Empty, around the 64- and 128-byte block edges, odd sizes, and 1 MiB (the chunk size) ± 1.
const SIZES = [0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 1000, 4096, 65_537, 2 ** 20 - 1, 2 ** 20, 2 ** 20 + 1]

function bytes(size, seed) {
  const buffer = Buffer.alloc(size)
  let x = seed
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    buffer[i] = x >>> 24
  }
  return buffer
}

let pool
test.before(() => {
  pool = new Pool(2)
})
test.after.always(() => pool.close())

test('every Node algorithm, every size: equal to node:crypto', async (t) => {
  for (const algorithm of NODE_ALGORITHMS) {
    const inputs = SIZES.map((size, i) => bytes(size, i + 1))
    const ours = await Promise.all(inputs.map((data) => pool.run({ data, algorithm }, 'hash')))
    for (const [i, data] of inputs.entries()) {
      t.is(ours[i], crypto.createHash(algorithm).update(data).digest('hex'), `${algorithm} of ${data.length} bytes`)
    }
  }
})

test('HMAC with keys short, block-sized and long: equal to node:crypto', async (t) => {
  const keys = [Buffer.alloc(0), Buffer.from('key'), bytes(64, 7), bytes(128, 8), bytes(200, 9), 'a string key']
  for (const algorithm of NODE_ALGORITHMS) {
    for (const key of keys) {
      for (const size of [0, 100, 70_000]) {
        const data = bytes(size, size + 3)
        t.is(
          await pool.run({ data, algorithm, key }, 'hash'),
          crypto.createHmac(algorithm, key).update(data).digest('hex'),
          `${algorithm} hmac, key ${key.length}, data ${size}`,
        )
      }
    }
  }
})

test('every input kind reads the bytes it views, in place', async (t) => {
  const backing = bytes(1000, 42)
  const expected = (buf) => crypto.createHash('sha256').update(buf).digest('hex')
  const view = backing.subarray(100, 900)
  const cases = [
    [view, view],
    [new Uint8Array(backing.buffer, backing.byteOffset + 100, 800), view],
    [new Uint16Array(backing.buffer.slice(backing.byteOffset + 100, backing.byteOffset + 900)), view],
    [new Float64Array(backing.buffer.slice(backing.byteOffset + 100, backing.byteOffset + 900)), view],
    [new DataView(backing.buffer, backing.byteOffset + 100, 800), view],
    [backing.buffer.slice(backing.byteOffset + 100, backing.byteOffset + 900), view],
    ['héllo wörld ✓', Buffer.from('héllo wörld ✓', 'utf8')],
    ['', Buffer.alloc(0)],
  ]
  for (const [data, same] of cases) {
    t.is(await pool.run(data, 'hash'), expected(same), data.constructor.name)
    t.is(await pool.run({ data }, 'hash'), expected(same), `{ data: ${data.constructor.name} }`)
  }
})

test('encodings: hex, base64, base64url, buffer', async (t) => {
  const data = bytes(333, 5)
  for (const encoding of ['hex', 'base64', 'base64url']) {
    t.is(
      await pool.run({ data, algorithm: 'sha512', encoding }, 'hash'),
      crypto.createHash('sha512').update(data).digest(encoding),
      encoding,
    )
  }
  const buffer = await pool.run({ data, algorithm: 'md5', encoding: 'buffer' }, 'hash')
  t.true(Buffer.isBuffer(buffer))
  t.deepEqual(buffer, crypto.createHash('md5').update(data).digest())
})

test('beyond Node: blake3 (plain and keyed), xxh64, xxh3, xxh128, crc32, crc32c', async (t) => {
  const check = (data) => pool.run(data, 'hash')
  t.is(
    await check({ data: '', algorithm: 'blake3' }),
    'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262',
  )
  t.is(await check({ data: '123456789', algorithm: 'crc32' }), 'cbf43926')
  t.is(await check({ data: '123456789', algorithm: 'crc32c' }), 'e3069283')
  t.is(await check({ data: '', algorithm: 'xxh64' }), 'ef46db3751d8e999')
  t.is(await check({ data: '', algorithm: 'xxh3' }), '2d06800538d394c2')
  t.is(await check({ data: '', algorithm: 'xxh128' }), '99aa06d3014798d86001c324468d497f')
  const keyed = await check({ data: 'abc', algorithm: 'blake3', key: Buffer.alloc(32, 1) })
  t.is(keyed.length, 64)
  t.not(keyed, await check({ data: 'abc', algorithm: 'blake3' }))
  if (typeof require('node:zlib').crc32 === 'function') {
    const data = bytes(100_000, 11)
    t.is(parseInt(await check({ data, algorithm: 'crc32' }), 16), require('node:zlib').crc32(data))
  }
})

// Past 1 MiB a blake3 digest is made of 1 MiB subtrees hashed on any free thread (the Rust
// tests hold it to the blake3 crate's own digest): every split gives the one digest.
test('blake3 past 1 MiB: the same digest on one thread and two, from a Buffer and a file', async (t) => {
  const one = new Pool({ maxThreads: 1 })
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cisterna-blake3-'))
  try {
    for (const size of [2 ** 20 + 1, 2 ** 21, 3 * 2 ** 20 + 5, 9 * 2 ** 20]) {
      const data = bytes(size, size)
      const file = path.join(dir, `${size}.bin`)
      fs.writeFileSync(file, data)
      const key = Buffer.alloc(32, 7)
      for (const options of [{ algorithm: 'blake3' }, { algorithm: 'blake3', key }]) {
        const onOne = await one.run({ data, ...options }, 'hash')
        t.is(await pool.run({ data, ...options }, 'hash'), onOne, `${size} bytes`)
        t.is(await pool.run({ data: { path: file }, ...options }, 'hash'), onOne, `${size} bytes from a file`)
      }
      // One byte less is another digest: every part counts.
      t.not(
        await pool.run({ data: data.subarray(1), algorithm: 'blake3' }, 'hash'),
        await one.run({ data, algorithm: 'blake3' }, 'hash'),
      )
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
    await one.close()
  }
})

// Aborted a microtask after run (see `abortRuns`), while a 128 MiB digest is still running in
// parts: no timer decides when.
test('aborting a blake3 digest in parts rejects it, and the pool goes on', async (t) => {
  const data = bytes(128 * 2 ** 20, 3)
  const whole = await pool.run({ data, algorithm: 'blake3' }, 'hash')
  await abortRuns(t, pool, { data, algorithm: 'blake3' }, 'hash', [undefined, undefined, undefined, undefined])
  t.is(await pool.run({ data, algorithm: 'blake3' }, 'hash'), whole)
})

test('bad data, algorithm, encoding or key is ERR_INVALID_ARG', async (t) => {
  const cases = [
    [42, TypeError],
    [null, TypeError],
    [undefined, TypeError],
    [{}, TypeError],
    [{ data: 5 }, TypeError],
    [{ data: 'x', algorithm: 'sha999' }, TypeError],
    [{ data: 'x', encoding: 'utf8' }, TypeError],
    [{ data: 'x', algorithm: 'crc32', key: 'k' }, TypeError],
    [{ data: 'x', key: 12 }, TypeError],
    [{ data: 'x', algorithm: 'blake3', key: Buffer.alloc(16) }, RangeError],
  ]
  for (const [data, ErrorClass] of cases) {
    const error = await t.throwsAsync(pool.run(data, 'hash'), { code: 'ERR_INVALID_ARG' })
    t.true(error instanceof ErrorClass, error.message)
  }
})

test('a Buffer dropped by the caller while it is hashed stays valid', async (t) => {
  const options = { data: bytes(8 * 2 ** 20, 3), algorithm: 'sha256' }
  const expected = crypto.createHash('sha256').update(options.data).digest('hex')
  const promise = pool.run(options, 'hash')
  options.data = null
  if (global.gc) global.gc()
  t.is(await promise, expected)
})

test('an options object reused right after run does not change the queued task', async (t) => {
  const options = { data: 'first', algorithm: 'sha1' }
  const first = pool.run(options, 'hash')
  options.data = 'second'
  const second = pool.run(options, 'hash')
  t.is(await first, crypto.createHash('sha1').update('first').digest('hex'))
  t.is(await second, crypto.createHash('sha1').update('second').digest('hex'))
})

test('small Buffers of one tick, past the batch arena: each digest is of its bytes when run was called', async (t) => {
  const sha256 = (data) => crypto.createHash('sha256').update(data).digest('hex')
  const runs = []
  const expected = []
  // 1500 KiB of small inputs in one tick: more than one batch's arena holds.
  for (let index = 0; index < 1500; index++) {
    const input = bytes(1 + (index % 1024), index)
    expected.push(sha256(input))
    runs.push(pool.run(input, 'hash'))
    input.fill(index & 0xff) // the caller reuses its Buffer at once
  }
  // Views with an offset, other typed arrays' bytes, shared memory, the arena's edge and past it.
  const backing = bytes(8192, 99)
  const edge = [
    backing.subarray(3, 1003),
    new Uint8Array(backing.buffer, backing.byteOffset + 17, 4096),
    backing.subarray(0, 4097),
    Buffer.alloc(0),
    new Uint8Array(new SharedArrayBuffer(2048)).fill(7),
  ]
  for (const input of edge) {
    expected.push(sha256(input))
    runs.push(pool.run(input, 'hash'))
  }
  // Other tasks between them keep their places and their own data.
  const fib = pool.run(40, 'fib')
  const sha1Options = pool.run({ data: backing.subarray(0, 100), algorithm: 'sha1' }, 'hash')
  backing.fill(0)
  t.deepEqual(await Promise.all(runs), expected)
  t.is(await fib, 102334155)
  t.is(await sha1Options, crypto.createHash('sha1').update(bytes(8192, 99).subarray(0, 100)).digest('hex'))
})
