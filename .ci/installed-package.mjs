// Runs every task once through an installed cisterna, CommonJS and ESM both: what `.ci/run`
// checks in a project that installed the packed tarballs. Run it from that project.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { crc32, deflateSync } from 'node:zlib'
import { Pool } from 'cisterna'

const require = createRequire(`${process.cwd()}/`)
const { Pool: RequiredPool } = require('cisterna')
assert.equal(RequiredPool, Pool, 'require and import give the same Pool')

/** A 64×48 RGB gradient as a PNG, made here so the check needs no image files. */
function png(width = 64, height = 48) {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type), data])
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.length)
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(body))
    return Buffer.concat([length, body, crc])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header.set([8, 2, 0, 0, 0], 8)
  const rows = Buffer.alloc(height * (1 + width * 3))
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rows.set([x * 4, y * 5, (x + y) * 2], y * (1 + width * 3) + 1 + x * 3)
  }
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

/** A 1×1 GIF. */
const gif = Buffer.from('R0lGODlhAQABAIAAAP8AAAAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64')

const pool = new Pool(2)
assert.equal(await pool.run(90, 'fib'), 2880067194370816120n)
assert.equal(await pool.run('abc', 'hash'), createHash('sha256').update('abc').digest('hex'))
// The kernels that pick their instructions at run time: every one must run on this CPU.
const bytes = Buffer.from(Array.from({ length: 100_000 }, (_, i) => (i * 7) % 251))
for (const algorithm of ['sha256', 'sha512', 'sha1', 'md5']) {
  const digest = await pool.run({ data: bytes, algorithm }, 'hash')
  assert.equal(digest, createHash(algorithm).update(bytes).digest('hex'), algorithm)
}
for (const algorithm of ['blake3', 'xxh3', 'xxh128', 'crc32', 'crc32c']) {
  assert.match(await pool.run({ data: bytes, algorithm }, 'hash'), /^[0-9a-f]+$/, algorithm)
}
for (const [algorithm, cost] of [
  ['bcrypt', 4],
  ['argon2id', 1],
  ['scrypt', 10],
]) {
  const hash = await pool.run({ password: 'secret', algorithm, cost }, 'hashPassword')
  assert.equal(await pool.run({ password: 'secret', hash }, 'verifyPassword'), true, algorithm)
}
assert.deepEqual((await pool.run('a,b\n1,2', 'parseCsv')).data, [
  ['a', 'b'],
  ['1', '2'],
])
// Every codec both ways, and the resampler: PNG → JPEG → WebP → PNG, and GIF → PNG.
const resize = (input, format, width) => pool.run({ input, width, format, resolveWithObject: true }, 'resize')
const jpeg = await resize(png(), 'jpeg', 40)
assert.deepEqual([jpeg.info.width, jpeg.info.height, jpeg.info.format], [40, 30, 'jpeg'])
const webp = await resize(jpeg.data, 'webp', 20)
assert.deepEqual([webp.info.width, webp.info.height, webp.info.format], [20, 15, 'webp'])
const back = await resize(webp.data, 'png', 10)
assert.deepEqual([back.info.width, back.info.height, back.info.format], [10, 8, 'png'])
const fromGif = await resize(gif, 'png', 3)
assert.deepEqual([fromGif.info.width, fromGif.info.height, fromGif.info.format], [3, 3, 'png'])
assert.equal(
  (await pool.run({ input: 'a,b\n1,2', header: true, output: 'json' }, 'parseCsv')).toString(),
  '{"data":[{"a":"1","b":"2"}],"errors":[],"meta":{"delimiter":",","linebreak":"\\n","aborted":false,"truncated":false,"cursor":7,"renamedHeaders":null,"fields":["a","b"]}}',
)
// prom-client and bullmq are optional peers: without them the exports load and say what they need.
const { collectMetrics } = await import('cisterna/prometheus')
assert.throws(() => collectMetrics(pool), { code: 'ERR_MISSING_PEER' })
const { createProcessor } = await import('cisterna/bullmq')
assert.throws(() => createProcessor(pool), { code: 'ERR_MISSING_PEER' })
await pool.close()

// A worker file, CommonJS and ESM, from the installed package's JS workers.
// In the project, so that the worker file's require('cisterna') finds the installed package.
const dir = mkdtempSync(join(process.cwd(), 'workers-'))
writeFileSync(
  join(dir, 'worker.cjs'),
  "module.exports = ({ a, b }) => a + b\nmodule.exports.isWorker = () => require('cisterna').isWorkerThread\n",
)
writeFileSync(join(dir, 'worker.mjs'), 'export default async (n) => n * 2\n')
const files = new Pool({ maxThreads: 2, filename: join(dir, 'worker.cjs') })
assert.equal(await files.run({ a: 2, b: 3 }), 5)
assert.equal(await files.run(null, { name: 'isWorker' }), true)
assert.equal(await files.run(21, { filename: join(dir, 'worker.mjs') }), 42)
assert.equal(await files.run(10, 'fib'), 55)
await files.close()

// The binary that ran is this platform's prebuilt package, not a build from source.
const { header, sharedObjects } = process.report.getReport()
const platform = `${process.platform}-${process.arch}-${header.glibcVersionRuntime ? 'gnu' : 'musl'}`
const loaded = sharedObjects.filter((file) => file.endsWith('.node'))
assert.deepEqual(
  loaded.map((file) => file.slice(file.lastIndexOf('node_modules/'))),
  [`node_modules/cisterna-${platform}/cisterna.${platform}.node`],
)
console.log(`cisterna: every task ran from cisterna-${platform} on Node ${process.version}, and worker files too`)
