// Runs every task once through an installed cisterna, CommonJS and ESM both: what `.ci/run`
// checks in a project that installed the packed tarballs. Run it from that project.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { createRequire } from 'node:module'
import { crc32, deflateSync } from 'node:zlib'
import { Pool } from 'cisterna'

const require = createRequire(`${process.cwd()}/`)
const { Pool: RequiredPool } = require('cisterna')
assert.equal(RequiredPool, Pool, 'require and import give the same Pool')

/** A 2×2 RGB PNG, made here so the check needs no image files. */
function png() {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type), data])
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.length)
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(body))
    return Buffer.concat([length, body, crc])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(2, 0)
  header.writeUInt32BE(2, 4)
  header.set([8, 2, 0, 0, 0], 8)
  const rows = Buffer.from([0, 255, 0, 0, 0, 255, 0, 0, 0, 0, 255, 255, 255, 255])
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

const pool = new Pool(2)
assert.equal(await pool.run(90, 'fib'), 2880067194370816120n)
assert.equal(await pool.run('abc', 'hash'), createHash('sha256').update('abc').digest('hex'))
const hash = await pool.run({ password: 'secret', cost: 4 }, 'hashPassword')
assert.equal(await pool.run({ password: 'secret', hash }, 'verifyPassword'), true)
assert.deepEqual((await pool.run('a,b\n1,2', 'parseCsv')).data, [
  ['a', 'b'],
  ['1', '2'],
])
const { info } = await pool.run({ input: png(), width: 1, format: 'jpeg', resolveWithObject: true }, 'resize')
assert.deepEqual([info.width, info.height, info.format], [1, 1, 'jpeg'])
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
console.log('cisterna: every task ran from the installed package')
