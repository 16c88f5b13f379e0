'use strict'
// hashPassword / verifyPassword interoperate, both ways, with the npm packages users have.
const test = require('ava')
const crypto = require('node:crypto')
const bcryptjs = require('bcryptjs')
const nodeRsBcrypt = require('@node-rs/bcrypt')
const nodeRsArgon2 = require('@node-rs/argon2')
const { Pool } = require('..')

let pool
test.before(() => {
  pool = new Pool(2)
})
test.after.always(() => pool.close())

const passwords = ['correct horse battery staple', '', 'ünïcödé ✓', 'x'.repeat(71), Buffer.from([1, 2, 3, 255])]

test('bcrypt: $2b$ hashes that bcryptjs and @node-rs/bcrypt verify, and theirs verify here', async (t) => {
  for (const password of passwords) {
    const text = Buffer.isBuffer(password) ? password.toString('latin1') : password
    const ours = await pool.run({ password, cost: 4 }, 'hashPassword')
    t.regex(ours, /^\$2b\$04\$[./A-Za-z0-9]{53}$/)
    if (!Buffer.isBuffer(password)) {
      t.true(bcryptjs.compareSync(password, ours))
      t.false(bcryptjs.compareSync(`${password}!`, ours))
      t.true(await nodeRsBcrypt.verify(password, ours))
      const theirs = bcryptjs.hashSync(password, 4)
      t.true(await pool.run({ password, hash: theirs }, 'verifyPassword'), `bcryptjs ${theirs}`)
      t.false(await pool.run({ password: `${password}!`, hash: theirs }, 'verifyPassword'))
      const nodeRs = await nodeRsBcrypt.hash(password, { cost: 4 })
      t.true(await pool.run({ password, hash: nodeRs }, 'verifyPassword'))
    }
    t.true(await pool.run({ password, hash: ours }, 'verifyPassword'), text)
  }
})

test('bcrypt reads the first 72 bytes, as the bcrypt package does', async (t) => {
  const long = 'p'.repeat(100)
  const hash = await pool.run({ password: long, cost: 4 }, 'hashPassword')
  t.true(await pool.run({ password: long.slice(0, 72), hash }, 'verifyPassword'))
  t.true(bcryptjs.compareSync(long, hash))
  t.false(await pool.run({ password: long.slice(0, 71), hash }, 'verifyPassword'))
})

test('argon2id: PHC strings that @node-rs/argon2 verifies, and its hashes verify here', async (t) => {
  for (const password of passwords.filter((p) => typeof p === 'string' && p !== '')) {
    const ours = await pool.run({ password, algorithm: 'argon2id', cost: 1 }, 'hashPassword')
    t.regex(ours, /^\$argon2id\$v=19\$m=19456,t=1,p=1\$/)
    t.true(await nodeRsArgon2.verify(ours, password))
    t.false(await nodeRsArgon2.verify(ours, `${password}!`))
    const theirs = await nodeRsArgon2.hash(password, { timeCost: 1, memoryCost: 8192 })
    t.true(await pool.run({ password, hash: theirs }, 'verifyPassword'))
    t.false(await pool.run({ password: `${password}!`, hash: theirs }, 'verifyPassword'))
  }
})

test("the default argon2id and scrypt parameters are OWASP's", async (t) => {
  t.regex(
    await pool.run({ password: 'p', algorithm: 'argon2id' }, 'hashPassword'),
    /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/,
  )
  t.regex(
    await pool.run({ password: 'p', algorithm: 'scrypt', cost: 12 }, 'hashPassword'),
    /^\$scrypt\$ln=12,r=8,p=1\$/,
  )
  t.regex(await pool.run({ password: 'p' }, 'hashPassword'), /^\$2b\$10\$/)
})

test('scrypt: the PHC hash is node:crypto.scrypt of the password and salt', async (t) => {
  const password = 'correct horse'
  const hash = await pool.run({ password, algorithm: 'scrypt', cost: 10 }, 'hashPassword')
  const [, , params, salt, digest] = hash.split('$')
  t.is(params, 'ln=10,r=8,p=1')
  // PHC stores salt and digest in unpadded base64.
  const expected = crypto.scryptSync(password, Buffer.from(salt, 'base64'), 32, { N: 1024, r: 8, p: 1 })
  t.is(expected.toString('base64').replace(/=+$/, ''), digest)
  t.true(await pool.run({ password, hash }, 'verifyPassword'))
  t.false(await pool.run({ password: 'wrong', hash }, 'verifyPassword'))
})

test('malformed hashes and bad options are ERR_INVALID_ARG, never false', async (t) => {
  const invalid = [
    [{ password: 'p', hash: 'not a hash' }, 'verifyPassword'],
    [{ password: 'p', hash: '$2b$10$tooshort' }, 'verifyPassword'],
    [{ password: 'p', hash: '$argon2id$v=19$garbage' }, 'verifyPassword'],
    [{ password: 'p', hash: 42 }, 'verifyPassword'],
    [{ password: 5, hash: `$2b$04$${'a'.repeat(53)}` }, 'verifyPassword'],
    [{ hash: `$2b$04$${'a'.repeat(53)}` }, 'verifyPassword'],
    ['p', 'hashPassword'],
    [{ password: 'p', algorithm: 'md5' }, 'hashPassword'],
    [{ password: 'p', cost: 3 }, 'hashPassword'],
    [{ password: 'p', cost: 32 }, 'hashPassword'],
    [{ password: 'p', algorithm: 'scrypt', cost: 21 }, 'hashPassword'],
    [{ password: 'p', cost: 'high' }, 'hashPassword'],
  ]
  for (const [data, name] of invalid) {
    await t.throwsAsync(pool.run(data, name), { code: 'ERR_INVALID_ARG' }, JSON.stringify(data))
  }
})

test('salts are random: the same password hashes differently each time', async (t) => {
  const [a, b] = await Promise.all([1, 2].map(() => pool.run({ password: 'same', cost: 4 }, 'hashPassword')))
  t.not(a, b)
})

/** Resolves with how long `promise` took to settle after `since`, in ms. */
async function settledAfter(promise, since) {
  await promise.catch(() => {})
  return performance.now() - since
}

// A cost-18 bcrypt runs for about 13 s: a thread that did not stop would hold the next task,
// or destroy(), for that long. The bounds below are generous against a slow machine.
test('bcrypt stops when its timeout or signal fires: the thread is free for the next task at once', async (t) => {
  const single = new Pool(1)
  const timedOut = await t.throwsAsync(single.run({ password: 'pw', cost: 18 }, { name: 'hashPassword', timeout: 100 }))
  t.is(timedOut.code, 'ERR_TIMEOUT')
  t.true((await settledAfter(single.run(20, 'fib'), performance.now())) < 1000, 'the next task ran soon')

  const stored = (await single.run({ password: 'pw', cost: 4 }, 'hashPassword')).replace('$04$', '$18$')
  const controller = new AbortController()
  const verifying = single.run({ password: 'pw', hash: stored }, { name: 'verifyPassword', signal: controller.signal })
  setTimeout(() => controller.abort(), 50)
  t.is((await t.throwsAsync(verifying)).code, 'ERR_ABORTED')
  t.true((await settledAfter(single.run(20, 'fib'), performance.now())) < 1000, 'the next task ran soon')
  await single.close()
})

test('destroy() during a long bcrypt resolves at once', async (t) => {
  const single = new Pool(1)
  const hashing = single.run({ password: 'pw', cost: 18 }, 'hashPassword')
  await new Promise((resolve) => setTimeout(resolve, 50))
  const since = performance.now()
  await single.destroy()
  t.true(performance.now() - since < 1000, 'the thread left without finishing the hash')
  t.is((await t.throwsAsync(hashing)).code, 'ERR_POOL_CLOSED')
})

test('a stored hash that asks for more memory or work than allowed is ERR_INVALID_ARG, not an abort', async (t) => {
  const salted = 'c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG'
  for (const hash of [`$argon2id$v=19$m=4194304,t=1,p=1$${salted}`, `$scrypt$ln=30,r=8,p=1$${salted}`]) {
    const error = await t.throwsAsync(pool.run({ password: 'pw', hash }, 'verifyPassword'))
    t.is(error.code, 'ERR_INVALID_ARG', hash)
    t.regex(error.message, /more than verifyPassword allows/)
  }
})

test('scrypt at its highest cost stops when its timeout fires, and destroy() during it resolves at once', async (t) => {
  const single = new Pool(1)
  const timedOut = await t.throwsAsync(
    single.run({ password: 'pw', algorithm: 'scrypt', cost: 20 }, { name: 'hashPassword', timeout: 100 }),
  )
  t.is(timedOut.code, 'ERR_TIMEOUT')
  t.true((await settledAfter(single.run(20, 'fib'), performance.now())) < 1000, 'the next task ran soon')
  const hashing = single.run({ password: 'pw', algorithm: 'scrypt', cost: 20 }, 'hashPassword')
  await new Promise((resolve) => setTimeout(resolve, 50))
  const since = performance.now()
  await single.destroy()
  t.true(performance.now() - since < 1000, 'the thread left without finishing the hash')
  t.is((await t.throwsAsync(hashing)).code, 'ERR_POOL_CLOSED')
})

test('argon2id at its highest cost stops when aborted, and destroy() during it resolves at once', async (t) => {
  const single = new Pool(1)
  const controller = new AbortController()
  const hashing = single.run(
    { password: 'pw', algorithm: 'argon2id', cost: 64 },
    { name: 'hashPassword', signal: controller.signal },
  )
  setTimeout(() => controller.abort(), 50)
  t.is((await t.throwsAsync(hashing)).code, 'ERR_ABORTED')
  t.true((await settledAfter(single.run(20, 'fib'), performance.now())) < 1000, 'the next task ran soon')
  const stored = await single.run({ password: 'pw', algorithm: 'argon2id', cost: 1 }, 'hashPassword')
  const verifying = single.run({ password: 'pw', hash: stored.replace('t=1,', 't=64,') }, 'verifyPassword')
  await new Promise((resolve) => setTimeout(resolve, 50))
  const since = performance.now()
  await single.destroy()
  t.true(performance.now() - since < 1000, 'the thread left without finishing the hash')
  t.is((await t.throwsAsync(verifying)).code, 'ERR_POOL_CLOSED')
})
