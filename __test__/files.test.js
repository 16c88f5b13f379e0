'use strict'
// Inputs and outputs by path, read and written on the pool's threads, and onProgress.

const test = require('ava')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { createHash } = require('node:crypto')
const sharp = require('sharp')
const { Pool } = require('..')
const { photo, prng } = require('../fixtures/images.js')
const { parseQuietly } = require('../fixtures/papa.js')

let pool
let dir
test.before(() => {
  pool = new Pool(2)
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cisterna-files-'))
})
test.after.always(async () => {
  await pool.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

function file(name, data) {
  const at = path.join(dir, name)
  fs.writeFileSync(at, data)
  return at
}

test('hash { data: { path } } digests the file as node:crypto digests its bytes', async (t) => {
  const random = prng(5)
  for (const size of [0, 1, (1 << 20) - 1, (3 << 20) + 17]) {
    const bytes = Buffer.from(Array.from({ length: size }, () => (random() * 256) | 0))
    const at = file(`bytes-${size}`, bytes)
    for (const algorithm of ['sha256', 'md5', 'blake2b512']) {
      const digest = await pool.run({ data: { path: at }, algorithm }, 'hash')
      t.is(digest, createHash(algorithm).update(bytes).digest('hex'), `${algorithm} of ${size} bytes`)
    }
    const hmac = await pool.run({ data: { path: at }, key: 'k', encoding: 'base64' }, 'hash')
    t.is(hmac, await pool.run({ data: bytes, key: 'k', encoding: 'base64' }, 'hash'))
  }
})

test('a missing file is ERR_FILE_NOT_FOUND, a directory ERR_FILE_READ, a bad path ERR_INVALID_ARG', async (t) => {
  const missing = path.join(dir, 'no-such-file')
  await t.throwsAsync(pool.run({ data: { path: missing } }, 'hash'), {
    code: 'ERR_FILE_NOT_FOUND',
    message: /no-such-file/,
  })
  await t.throwsAsync(pool.run({ input: { path: missing } }, 'parseCsv'), { code: 'ERR_FILE_NOT_FOUND' })
  await t.throwsAsync(pool.run({ input: { path: missing }, width: 10 }, 'resize'), { code: 'ERR_FILE_NOT_FOUND' })
  await t.throwsAsync(pool.run({ data: { path: dir } }, 'hash'), { code: 'ERR_FILE_READ' })
  await t.throwsAsync(pool.run({ data: { path: '' } }, 'hash'), { code: 'ERR_INVALID_ARG' })
  await t.throwsAsync(pool.run({ data: { path: 42 } }, 'hash'), { code: 'ERR_INVALID_ARG' })
  // A bare { path } could be parseCsv's options: only an input names a file.
  await t.throwsAsync(pool.run({ path: missing, header: true }, 'parseCsv'), { code: 'ERR_INVALID_ARG' })
})

test('hash of a 1 GiB file made on the fly keeps memory flat and reports its progress', async (t) => {
  const at = path.join(dir, 'big')
  const size = 1 << 30
  const descriptor = fs.openSync(at, 'w')
  fs.writeSync(descriptor, Buffer.from('head'), 0, 4, 0)
  fs.writeSync(descriptor, Buffer.from('tail'), 0, 4, size - 4)
  fs.closeSync(descriptor)
  const expected = createHash('sha256')
  for await (const chunk of fs.createReadStream(at, { highWaterMark: 1 << 20 })) expected.update(chunk)
  const fractions = []
  const rssBefore = process.memoryUsage.rss()
  let rssPeak = rssBefore
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 5)
  const started = Date.now()
  const digest = await pool.run({ data: { path: at } }, { name: 'hash', onProgress: (f) => fractions.push(f) })
  const elapsed = Date.now() - started
  clearInterval(sampler)
  t.is(digest, expected.digest('hex'))
  t.true(rssPeak - rssBefore < 64 << 20, `resident memory grew ${(rssPeak - rssBefore) >> 20} MiB`)
  t.true(fractions.length >= 1, 'a report every 100 ms')
  t.true(fractions.length <= elapsed / 100 + 2, `${fractions.length} reports in ${elapsed} ms: at most one per 100 ms`)
  t.true(
    fractions.every((f, i) => f > 0 && f <= 1 && (i === 0 || f > fractions[i - 1])),
    fractions.join(),
  )
  fs.rmSync(at)
})

test('parseCsv { input: { path } } is Papa Parse of the file text, in every layout', async (t) => {
  const text = 'id,name,when\n1,"a, b",2024-01-01T00:00Z\n2,ü,\n'
  const at = file('rows.csv', text)
  const options = { header: true, dynamicTyping: true }
  const expected = parseQuietly(text, options)
  t.deepEqual(await pool.run({ input: { path: at }, ...options }, 'parseCsv'), expected)
  const json = await pool.run({ input: { path: at }, ...options, output: 'json' }, 'parseCsv')
  t.is(json.toString(), JSON.stringify(expected))
})

test('resize from a path to a path resolves with the info, and the file is that image', async (t) => {
  const at = file('photo.jpg', await photo(640, 480, 'jpeg'))
  const out = path.join(dir, 'thumb.webp')
  const info = await pool.run({ input: { path: at }, output: { path: out }, width: 160, format: 'webp' }, 'resize')
  t.deepEqual(info, { width: 160, height: 120, format: 'webp', size: fs.statSync(out).size, channels: 3 })
  const metadata = await sharp(out).metadata()
  t.deepEqual([metadata.width, metadata.height, metadata.format], [160, 120, 'webp'])
  const nowhere = path.join(dir, 'no-such-dir', 'thumb.png')
  await t.throwsAsync(pool.run({ input: { path: at }, output: { path: nowhere }, width: 10 }, 'resize'), {
    code: 'ERR_FILE_WRITE',
  })
  await t.throwsAsync(pool.run({ input: { path: at }, output: out, width: 10 }, 'resize'), { code: 'ERR_INVALID_ARG' })
})

test('onProgress is called with growing fractions for tasks that know how far they are', async (t) => {
  const progress = { bcrypt: [], hash: [] }
  const watch = (name) => (fraction) => progress[name].push(fraction)
  await Promise.all([
    pool.run({ password: 'p', cost: 12 }, { name: 'hashPassword', onProgress: watch('bcrypt') }),
    pool.run(Buffer.alloc(512 << 20), { name: 'hash', onProgress: watch('hash') }),
  ])
  for (const name of ['bcrypt', 'hash']) {
    const fractions = progress[name]
    t.true(fractions.length >= 1, name)
    t.true(
      fractions.every((f, i) => f >= 0 && f <= 1 && (i === 0 || f >= fractions[i - 1])),
      `${name}: ${fractions}`,
    )
  }
  let calls = 0
  t.is(await pool.run(20, { name: 'fib', onProgress: () => calls++ }), 6765)
  t.is(calls, 0, 'fib reports nothing')
  await t.throwsAsync(pool.run(1, { name: 'fib', onProgress: 'often' }), { code: 'ERR_INVALID_ARG' })
})

test('a throwing onProgress is a warning; the task still resolves', async (t) => {
  const warnings = []
  const onWarning = (warning) => warnings.push(warning.message)
  process.on('warning', onWarning)
  const hash = await pool.run(
    { password: 'p', cost: 12 },
    {
      name: 'hashPassword',
      onProgress: () => {
        throw new Error('progress bar broke')
      },
    },
  )
  await new Promise((resolve) => setImmediate(resolve))
  process.off('warning', onWarning)
  t.regex(hash, /^\$2b\$12\$/)
  t.true(warnings.includes('progress bar broke'), warnings.join())
})
