'use strict'
// cisterna/limits: a service's policy over what its callers may ask of the pool. Every hash it
// lets through is one the pool makes at the policy's highest cost; one step past it is refused
// with the code of its bound, before anything is queued.

const test = require('ava')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const bcryptjs = require('bcryptjs')
const { Pool } = require('..')
const { DEFAULT_LIMITS, createLimits, limitsFromEnv, checkTask } = require('cisterna/limits')

const limits = createLimits({ bcryptMaxCost: 6, argon2MaxCost: 2, scryptMaxCost: 10 })

test('createLimits merges over the defaults, and refuses what it does not know', (t) => {
  t.is(limits.bcryptMaxCost, 6)
  t.is(limits.csvMaxBytes, DEFAULT_LIMITS.csvMaxBytes)
  t.true(Object.isFrozen(limits))
  t.is(createLimits({ timeouts: { hash: 5 } }).timeouts.hash, 5)
  t.is(createLimits({ timeouts: { hash: 5 } }).timeouts.resize, DEFAULT_LIMITS.timeouts.resize)
  for (const overrides of [
    { bcryptMaxCots: 5 },
    { bcryptMaxCost: 0 },
    { bcryptMaxCost: 2.5 },
    { csvMaxBytes: '10' },
    { passwordAlgorithms: ['md5'] },
    { timeouts: { transcode: 10 } },
    null,
  ]) {
    t.throws(() => createLimits(overrides), { code: 'ERR_INVALID_ARG' }, JSON.stringify(overrides))
  }
})

test('limitsFromEnv reads each bound and deadline under its name in capitals', (t) => {
  const overrides = limitsFromEnv({
    BCRYPT_MAX_COST: '11',
    CSV_MAX_BYTES: '1024',
    PASSWORD_ALGORITHMS: 'bcrypt,scrypt',
    HASH_PASSWORD_TIMEOUT_MS: '2000',
    PARSE_CSV_TIMEOUT_MS: '300',
    UNRELATED: 'x',
  })
  t.deepEqual(overrides, {
    bcryptMaxCost: 11,
    csvMaxBytes: 1024,
    passwordAlgorithms: ['bcrypt', 'scrypt'],
    timeouts: { hashPassword: 2000, parseCsv: 300 },
  })
  t.deepEqual(limitsFromEnv({}), {})
  t.throws(() => limitsFromEnv({ BCRYPT_MAX_COST: 'twelve' }), { code: 'ERR_INVALID_ARG' })
  t.throws(() => createLimits(limitsFromEnv({ PASSWORD_ALGORITHMS: 'bcrypt,rot13' })), { code: 'ERR_INVALID_ARG' })
})

test('hashes made at the highest cost pass; one step past is refused, made or stored', async (t) => {
  const pool = new Pool(2)
  for (const [algorithm, max] of [
    ['bcrypt', limits.bcryptMaxCost],
    ['argon2id', limits.argon2MaxCost],
    ['scrypt', limits.scryptMaxCost],
  ]) {
    const atMax = checkTask(limits, 'hashPassword', { password: 'p', algorithm, cost: max })
    const hash = await pool.run(atMax, 'hashPassword')
    const verify = checkTask(limits, 'verifyPassword', { password: 'p', hash })
    t.true(await pool.run(verify, 'verifyPassword'), algorithm)
    t.throws(() => checkTask(limits, 'hashPassword', { password: 'p', algorithm, cost: max + 1 }), {
      code: 'ERR_LIMIT_PASSWORD_COST',
      instanceOf: RangeError,
    })
    const stronger = await pool.run({ password: 'p', algorithm, cost: max + 1 }, 'hashPassword')
    const error = t.throws(() => checkTask(limits, 'verifyPassword', { password: 'p', hash: stronger }), {
      code: 'ERR_LIMIT_PASSWORD_COST',
    })
    t.true(error.limit === max, `${algorithm}: ${error.message}`)
  }
  await pool.close()
})

test('stored hashes are read for their work whatever their variant, and unread forms are refused', (t) => {
  const refused = (hash) => t.throws(() => checkTask(limits, 'verifyPassword', { password: 'p', hash }))
  t.is(refused('$2y$31$abcdefghijklmnopqrstuuAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA').code, 'ERR_LIMIT_PASSWORD_COST')
  t.is(refused('$2a$07$abcdefghijklmnopqrstuuAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA').code, 'ERR_LIMIT_PASSWORD_COST')
  // Little memory and many passes is as much work as the reverse.
  t.is(refused('$argon2id$v=19$m=8,t=10000,p=1$c2FsdHNhbHQ$aGFzaA').code, 'ERR_LIMIT_PASSWORD_COST')
  t.is(refused('$argon2i$v=19$m=1048576,t=1,p=1$c2FsdHNhbHQ$aGFzaA').code, 'ERR_LIMIT_PASSWORD_COST')
  t.is(refused('$scrypt$ln=10,r=8,p=16$c2FsdHNhbHQ$aGFzaA').code, 'ERR_LIMIT_PASSWORD_COST')
  t.is(refused('$scrypt$ln=11,r=8,p=1$c2FsdHNhbHQ$aGFzaA').code, 'ERR_LIMIT_PASSWORD_COST')
  // A form with its costs elsewhere could hide any cost: not read, not run.
  t.is(refused('$argon2id$v=19$t=1,m=8,p=1$c2FsdHNhbHQ$aGFzaA').code, 'ERR_INVALID_ARG')
  t.is(refused('$2b$nonsense').code, 'ERR_INVALID_ARG')
  const cheap = bcryptjs.hashSync('p', 4)
  t.notThrows(() => checkTask(limits, 'verifyPassword', { password: 'p', hash: cheap }))
})

test('algorithms, password lengths, image sizes and byte counts are held to the policy', (t) => {
  const narrow = createLimits({
    passwordAlgorithms: ['argon2id'],
    imageMaxDimension: 100,
    imageMaxInputPixels: 1000,
    imageMaxBytes: 10,
    csvMaxBytes: 10,
    hashMaxBytes: 10,
    passwordMaxBytes: 8,
  })
  const code = (name, data) => {
    try {
      checkTask(narrow, name, data)
      return 'passed'
    } catch (error) {
      return error.code
    }
  }
  t.is(code('hashPassword', { password: 'p' }), 'ERR_LIMIT_PASSWORD_ALGORITHM', 'bcrypt is the default')
  t.is(code('hashPassword', { password: 'p', algorithm: 'argon2id' }), 'passed')
  t.is(code('hashPassword', { password: 'ü'.repeat(5), algorithm: 'argon2id' }), 'ERR_LIMIT_PASSWORD_LENGTH')
  t.is(code('verifyPassword', { password: Buffer.alloc(9), hash: '$2b$04$x' }), 'ERR_LIMIT_PASSWORD_LENGTH')
  t.is(code('resize', { input: Buffer.alloc(10), width: 100, height: 100 }), 'passed')
  t.is(code('resize', { input: Buffer.alloc(10), width: 101 }), 'ERR_LIMIT_IMAGE_DIMENSION')
  t.is(code('resize', { input: Buffer.alloc(10), height: 101 }), 'ERR_LIMIT_IMAGE_DIMENSION')
  t.is(code('resize', { input: Buffer.alloc(11), width: 10 }), 'ERR_LIMIT_IMAGE_BYTES')
  for (const asked of [false, 0, 1001]) {
    t.is(code('resize', { input: Buffer.alloc(1), limitInputPixels: asked }), 'ERR_LIMIT_IMAGE_PIXELS', String(asked))
  }
  t.is(checkTask(narrow, 'resize', { input: Buffer.alloc(1) }).limitInputPixels, 1000, 'the policy by default')
  t.is(checkTask(narrow, 'resize', { input: Buffer.alloc(1), limitInputPixels: true }).limitInputPixels, 1000)
  t.is(checkTask(narrow, 'resize', { input: Buffer.alloc(1), limitInputPixels: 10 }).limitInputPixels, 10)
  t.is(code('parseCsv', 'a,b\n1,22222'), 'ERR_LIMIT_CSV_BYTES')
  t.is(code('parseCsv', { input: 'ü'.repeat(6) }), 'ERR_LIMIT_CSV_BYTES', 'UTF-8 bytes, not characters')
  t.is(code('parseCsv', { input: new Uint16Array(6) }), 'ERR_LIMIT_CSV_BYTES')
  t.is(code('hash', Buffer.alloc(11)), 'ERR_LIMIT_HASH_BYTES')
  t.is(code('hash', { data: new ArrayBuffer(11) }), 'ERR_LIMIT_HASH_BYTES')
  t.is(code('hash', { data: 'x'.repeat(10) }), 'passed')
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cisterna-limits-')), 'rows.csv')
  fs.writeFileSync(file, 'a,b\n1,22222')
  t.is(code('parseCsv', { input: { path: file } }), 'ERR_LIMIT_CSV_BYTES', 'a file by its size')
  t.is(code('fib', 90), 'passed', 'a task with no bound but its deadline')
})
