'use strict'
// bcrypt cost 10 against @node-rs/bcrypt (native, libuv threadpool) and bcryptjs (JS, main
// thread): time per hash one at a time, and cisterna's throughput with two in flight.

const bcryptjs = require('bcryptjs')
const nodeRsBcrypt = require('@node-rs/bcrypt')
const { Pool } = require('..')
const { medianOf, now, report } = require('./harness.js')

const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const COST = 10
const HASHES = 8

async function msPerHash(hashOnce) {
  const start = now()
  for (let i = 0; i < HASHES; i++) await hashOnce(i)
  return (now() - start) / HASHES
}

async function main() {
  const pool = new Pool({ maxThreads: 2, minThreads: 2 })
  const ours = (i) => pool.run({ password: `password ${i}`, cost: COST }, 'hashPassword')
  await ours(0)
  console.log(`bcrypt cost ${COST}, median of ${RUNS} runs`)
  const oursMs = await medianOf(RUNS, () => msPerHash(ours))
  report({
    name: 'per hash, one at a time',
    unit: 'ms',
    ours: oursMs,
    anchor: await medianOf(RUNS, () => msPerHash((i) => nodeRsBcrypt.hash(`password ${i}`, { cost: COST }))),
    anchorName: '@node-rs/bcrypt',
    higherIsBetter: false,
    target: 1.0,
  })
  report({
    name: 'per hash, one at a time',
    unit: 'ms',
    ours: oursMs,
    anchor: await medianOf(RUNS, () => msPerHash(async (i) => bcryptjs.hashSync(`password ${i}`, COST))),
    anchorName: 'bcryptjs',
    higherIsBetter: false,
    target: 1.3,
  })
  const twoInFlight = await medianOf(RUNS, async () => {
    const start = now()
    for (let i = 0; i < HASHES; i += 2) await Promise.all([ours(i), ours(i + 1)])
    return (now() - start) / HASHES
  })
  report({
    name: 'throughput: two in flight vs one at a time',
    unit: 'ms/hash',
    ours: twoInFlight,
    anchor: oursMs,
    anchorName: 'one-at-a-time',
    higherIsBetter: false,
    target: 1.8,
  })
  await pool.close()
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
