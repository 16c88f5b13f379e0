'use strict'
// `cisterna/limits`: what a caller may ask of the pool, bounded by a server's or queue
// worker's policy. The tasks take any cost their formats allow (bcrypt cost 31 runs for days);
// a service whose clients choose costs, sizes and hashes checks each task's data here first,
// and runs it with the policy's deadline.

const fs = require('node:fs')
const { invalidType, limitExceeded } = require('./errors.js')

const MiB = 1 << 20

/** The policy a service gets unless it says otherwise; each value is also read from the environment by `limitsFromEnv`. */
const DEFAULT_LIMITS = Object.freeze({
  /** The algorithms `hashPassword` may be asked for. */
  passwordAlgorithms: Object.freeze(['bcrypt', 'argon2id', 'scrypt']),
  /** log2 of bcrypt's rounds: 12 takes about 250 ms. */
  bcryptMaxCost: 12,
  /** Argon2id passes over 19 MiB; a stored hash may ask for memory × passes up to 19 MiB × this. */
  argon2MaxCost: 4,
  /** log2 of scrypt's N at r = 8, p = 1; a stored hash may ask for 128 · r · N · p up to that. */
  scryptMaxCost: 17,
  /** Bytes (UTF-8) of a password. */
  passwordMaxBytes: 1024,
  /** A resize's `width` and `height`. */
  imageMaxDimension: 8192,
  /** Pixels of an image to resize, from its header: `limitInputPixels` may lower it, not raise it. */
  imageMaxInputPixels: 50_000_000,
  /** Bytes of an encoded image. */
  imageMaxBytes: 32 * MiB,
  /** Bytes of a CSV text. */
  csvMaxBytes: 16 * MiB,
  /** Bytes of data to hash. */
  hashMaxBytes: 64 * MiB,
  /** Milliseconds each task may run, by task name, before it is stopped with ERR_TIMEOUT. */
  timeouts: Object.freeze({
    hash: 10_000,
    hashPassword: 5_000,
    verifyPassword: 5_000,
    resize: 15_000,
    parseCsv: 15_000,
    fib: 5_000,
  }),
})

const NUMERIC_LIMITS = Object.keys(DEFAULT_LIMITS).filter((key) => typeof DEFAULT_LIMITS[key] === 'number')

function positiveInteger(value, what) {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw invalidType(`${what} must be a positive integer, got ${String(value)}`)
  }
  return value
}

/**
 * A policy: `DEFAULT_LIMITS` with `overrides` over it, checked and frozen. An unknown key or a
 * value that is not a positive integer (an unknown algorithm, a timeout for no task) throws.
 */
function createLimits(overrides = {}) {
  if (typeof overrides !== 'object' || overrides === null)
    throw invalidType('createLimits(overrides): overrides must be an object')
  const limits = { ...DEFAULT_LIMITS }
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) continue
    if (NUMERIC_LIMITS.includes(key)) limits[key] = positiveInteger(value, key)
    else if (key === 'passwordAlgorithms') {
      if (!Array.isArray(value)) throw invalidType('passwordAlgorithms must be an array')
      for (const algorithm of value) {
        if (!DEFAULT_LIMITS.passwordAlgorithms.includes(algorithm)) {
          throw invalidType(`passwordAlgorithms: no password algorithm named ${JSON.stringify(algorithm)}`)
        }
      }
      limits.passwordAlgorithms = Object.freeze([...value])
    } else if (key === 'timeouts') {
      const timeouts = { ...DEFAULT_LIMITS.timeouts }
      for (const [task, ms] of Object.entries(value ?? {})) {
        if (!(task in timeouts)) throw invalidType(`timeouts: no task named ${JSON.stringify(task)}`)
        timeouts[task] = positiveInteger(ms, `timeouts.${task}`)
      }
      limits.timeouts = Object.freeze(timeouts)
    } else throw invalidType(`createLimits: no limit named ${JSON.stringify(key)}`)
  }
  return Object.freeze(limits)
}

/** `bcryptMaxCost` → `BCRYPT_MAX_COST`, `hashPassword` → `HASH_PASSWORD`. */
const envName = (key) => key.replace(/[A-Z]/g, (letter) => `_${letter}`).toUpperCase()

/**
 * The overrides an environment sets, for `createLimits`: each numeric limit under its name in
 * capitals (`BCRYPT_MAX_COST=11`, `CSV_MAX_BYTES=1048576`), `PASSWORD_ALGORITHMS=bcrypt,argon2id`,
 * and each task's deadline as `HASH_PASSWORD_TIMEOUT_MS=2000`.
 */
function limitsFromEnv(env = process.env) {
  const overrides = {}
  const number = (name) => {
    const value = Number(env[name])
    if (env[name] === '' || !Number.isSafeInteger(value))
      throw invalidType(`${name} must be an integer, got ${env[name]}`)
    return value
  }
  for (const key of NUMERIC_LIMITS) if (env[envName(key)] !== undefined) overrides[key] = number(envName(key))
  if (env.PASSWORD_ALGORITHMS !== undefined) overrides.passwordAlgorithms = env.PASSWORD_ALGORITHMS.split(',')
  for (const task of Object.keys(DEFAULT_LIMITS.timeouts)) {
    const name = `${envName(task)}_TIMEOUT_MS`
    if (env[name] !== undefined) {
      overrides.timeouts ??= {}
      overrides.timeouts[task] = number(name)
    }
  }
  return overrides
}

const isBytes = (value) =>
  ArrayBuffer.isView(value) || value instanceof ArrayBuffer || value instanceof SharedArrayBuffer

/** Bytes of an input as a task reads it: a string's UTF-8, a view's bytes, a `{ path }`'s file size. */
function inputBytes(input) {
  if (typeof input === 'string') return Buffer.byteLength(input)
  if (isBytes(input)) return input.byteLength
  if (typeof input?.path === 'string') {
    try {
      return fs.statSync(input.path).size
    } catch {
      return 0 // the task reports a missing or unreadable file itself
    }
  }
  return 0
}

function checkBytes(input, max, code, what) {
  const bytes = inputBytes(input)
  if (bytes > max) throw limitExceeded(code, `${what} of ${bytes} bytes is over the limit of ${max}`, max)
}

const isObject = (value) => typeof value === 'object' && value !== null && !isBytes(value)

function checkPasswordBytes(limits, password) {
  checkBytes(password, limits.passwordMaxBytes, 'ERR_LIMIT_PASSWORD_LENGTH', 'a password')
}

function checkCost(cost, max, algorithm) {
  if (cost > max) {
    throw limitExceeded('ERR_LIMIT_PASSWORD_COST', `${algorithm} cost ${cost} is over the limit of ${max}`, max)
  }
}

const ARGON2_MEMORY_KIB = 19 * 1024
const SCRYPT_BLOCK = 128 * 8

/**
 * The work a stored hash asks `verifyPassword` for, held to what `hashPassword` may make. A
 * hash in no form read here is refused, so that no cost can slip past unread.
 */
function checkStoredHash(limits, hash) {
  if (typeof hash !== 'string') return // the task says what is wrong with it
  const bcrypt = /^\$2[abxy]\$(\d{2})\$/.exec(hash)
  if (bcrypt) return checkCost(Number(bcrypt[1]), limits.bcryptMaxCost, 'bcrypt')
  const argon2 = /^\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=(\d+),t=(\d+),p=(\d+)\$/.exec(hash)
  if (argon2) {
    const work = Number(argon2[1]) * Number(argon2[2])
    const max = ARGON2_MEMORY_KIB * limits.argon2MaxCost
    if (work > max) {
      throw limitExceeded(
        'ERR_LIMIT_PASSWORD_COST',
        `argon2 memory × passes of ${work} KiB is over the limit of ${max} KiB`,
        limits.argon2MaxCost,
      )
    }
    return
  }
  const scrypt = /^\$scrypt\$ln=(\d+),r=(\d+),p=(\d+)\$/.exec(hash)
  if (scrypt) {
    const [ln, r, p] = scrypt.slice(1).map(Number)
    const work = 128 * r * p * 2 ** ln
    const max = SCRYPT_BLOCK * 2 ** limits.scryptMaxCost
    if (work > max) {
      throw limitExceeded(
        'ERR_LIMIT_PASSWORD_COST',
        `scrypt 128·r·N·p of ${work} is over the limit of ${max}`,
        limits.scryptMaxCost,
      )
    }
    return
  }
  throw invalidType('hash is not a bcrypt, Argon2 or scrypt hash')
}

const COST_LIMIT = { bcrypt: 'bcryptMaxCost', argon2id: 'argon2MaxCost', scrypt: 'scryptMaxCost' }

/** Checks, by task name, of the data a caller sent; each throws a coded error past a bound. */
const CHECKS = {
  hash(limits, data) {
    checkBytes(isObject(data) ? data.data : data, limits.hashMaxBytes, 'ERR_LIMIT_HASH_BYTES', 'data to hash')
    return data
  },
  hashPassword(limits, data) {
    if (!isObject(data)) return data
    const algorithm = data.algorithm ?? 'bcrypt'
    if (typeof algorithm === 'string' && !limits.passwordAlgorithms.includes(algorithm)) {
      throw limitExceeded(
        'ERR_LIMIT_PASSWORD_ALGORITHM',
        `password algorithm ${JSON.stringify(algorithm)} is not allowed here; allowed: ${limits.passwordAlgorithms.join(', ')}`,
        limits.passwordAlgorithms,
      )
    }
    checkPasswordBytes(limits, data.password)
    if (typeof data.cost === 'number' && COST_LIMIT[algorithm] !== undefined) {
      checkCost(data.cost, limits[COST_LIMIT[algorithm]], algorithm)
    }
    return data
  },
  verifyPassword(limits, data) {
    if (!isObject(data)) return data
    checkPasswordBytes(limits, data.password)
    checkStoredHash(limits, data.hash)
    return data
  },
  resize(limits, data) {
    if (!isObject(data)) return data
    checkBytes(data.input, limits.imageMaxBytes, 'ERR_LIMIT_IMAGE_BYTES', 'an image')
    for (const side of ['width', 'height']) {
      const value = data[side]
      if (typeof value === 'number' && value > limits.imageMaxDimension) {
        throw limitExceeded(
          'ERR_LIMIT_IMAGE_DIMENSION',
          `${side} ${value} is over the limit of ${limits.imageMaxDimension}`,
          limits.imageMaxDimension,
        )
      }
    }
    const asked = data.limitInputPixels
    // sharp's `true` is its default limit: here, the policy's.
    if (asked === undefined || asked === true) return { ...data, limitInputPixels: limits.imageMaxInputPixels }
    if (asked === false || asked === 0 || (typeof asked === 'number' && asked > limits.imageMaxInputPixels)) {
      throw limitExceeded(
        'ERR_LIMIT_IMAGE_PIXELS',
        `limitInputPixels may not be over ${limits.imageMaxInputPixels}, got ${String(asked)}`,
        limits.imageMaxInputPixels,
      )
    }
    return data
  },
  parseCsv(limits, data) {
    checkBytes(isObject(data) ? data.input : data, limits.csvMaxBytes, 'ERR_LIMIT_CSV_BYTES', 'a CSV text')
    return data
  },
}

/**
 * The data to run task `name` with under `limits`: `data` itself, or a copy with the policy's
 * defaults filled in (`limitInputPixels`). Throws an `ERR_LIMIT_*` RangeError past a bound; data
 * the task itself would refuse is left for the task to refuse.
 */
function checkTask(limits, name, data) {
  const check = Object.hasOwn(CHECKS, name) ? CHECKS[name] : undefined
  return check === undefined ? data : check(limits, data)
}

module.exports = { DEFAULT_LIMITS, createLimits, limitsFromEnv, checkTask }
