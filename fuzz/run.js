'use strict'
// `npm run fuzz -- [--seconds N] [--seed N] [--target csv|images|passwords]`: random inputs,
// small and big, against the two parsers that read untrusted bytes, and our own password
// functions against the crates they stand in for.
//   csv        parseCsv against Papa Parse: the same { data, errors, meta }, or both refuse;
//              and a quarter of the time output: 'json' against JSON.stringify of that result
//   images     mutated JPEG, PNG, WebP and GIF files through resize: a valid image or a coded
//              error, never a crash, a hang or unbounded memory
//   passwords  bcrypt, scrypt and Argon2 on random passwords, salts and small costs, against
//              the `bcrypt`, `scrypt` and `argon2` crates (a Rust test, run by cargo)
// The time is split between the targets. A failing input is written to fuzz/found/ with the
// seed that made it, and the run exits 1; turn it into a test once it is understood.
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { isDeepStrictEqual, parseArgs } = require('node:util')
const sharp = require('sharp')
const { Pool } = require('..')
const { photo, prng } = require('../fixtures/images.js')
const { parseQuietly } = require('../fixtures/papa.js')

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    seed: { type: 'string', default: String(Date.now() % 2 ** 31) },
    target: { type: 'string', multiple: true, default: ['csv', 'images', 'passwords'] },
  },
})
const SECONDS = Number(args.seconds)
const SEED = Number(args.seed)
/** Resident memory the image target may reach: several times its largest legal decode. */
const RSS_LIMIT = 3 * 2 ** 30
const FOUND = path.join(__dirname, 'found')

let failures = 0
function found(target, what, input, detail) {
  failures++
  fs.mkdirSync(FOUND, { recursive: true })
  const file = path.join(FOUND, `${target}-${SEED}-${failures}.json`)
  const saved = Buffer.isBuffer(input) ? { base64: input.toString('base64') } : { input }
  fs.writeFileSync(file, JSON.stringify({ seed: SEED, what, detail: String(detail), ...saved }))
  console.log(
    `FOUND ${target}: ${what}: ${String(detail).slice(0, 300)} (saved to ${path.relative(process.cwd(), file)})`,
  )
}

// --- csv ---------------------------------------------------------------------------------

const ALPHABET = [
  'a',
  'b',
  '1',
  '0.5',
  '-',
  'e',
  ' ',
  ',',
  ';',
  '\t',
  '|',
  '"',
  '""',
  "'",
  '\\',
  '\n',
  '\r',
  '\r\n',
  '#',
  '\ufeff',
  'ü',
  '😀',
  'true',
  'null',
  '2024-01-02T03:04Z',
]
const OPTIONS = [
  {},
  { header: true },
  { dynamicTyping: true },
  { header: true, dynamicTyping: true },
  { skipEmptyLines: true },
  { skipEmptyLines: 'greedy' },
  { delimiter: ';' },
  { comments: '#' },
  { preview: 3 },
  { newline: '\n' },
  { quoteChar: "'" },
  { escapeChar: '\\' },
  { fastMode: true },
  { header: true, skipEmptyLines: 'greedy', dynamicTyping: true },
]

/** Shapes that cost more than their size if any step is not linear, made big. */
const BIG_SHAPES = [
  (n) => 'x,'.repeat(n),
  (n) => `${'h,'.repeat(n)}h\n${'1,'.repeat(n)}`,
  (n) => '"",'.repeat(n),
  (n) => `a\n${'\n'.repeat(n)}b`,
  (n) => `"${'q""'.repeat(n)}"`,
  (n) => 'z'.repeat(n),
  (n) => '"\n'.repeat(n),
  (n) => `#c\n`.repeat(n),
]

function randomCsv(random) {
  if (random() < 0.05) {
    const shape = BIG_SHAPES[Math.floor(random() * BIG_SHAPES.length)]
    return shape(Math.floor(random() * 300_000))
  }
  const length = Math.floor(random() ** 3 * 4000)
  let text = ''
  while (text.length < length) text += ALPHABET[Math.floor(random() * ALPHABET.length)]
  return text
}

function papa(input, options) {
  try {
    return { result: parseQuietly(input, { ...options }) }
  } catch (error) {
    return { error }
  }
}

async function fuzzCsv(pool, random, until) {
  let runs = 0
  while (Date.now() < until) {
    const input = randomCsv(random)
    const options = OPTIONS[Math.floor(random() * OPTIONS.length)]
    const expected = papa(input, options)
    runs++
    try {
      const ours = await pool.run({ input, ...options }, { name: 'parseCsv', timeout: 30_000 })
      if (expected.error)
        found('csv', 'Papa Parse throws, parseCsv returns', { input, options }, expected.error.message)
      else if (!isDeepStrictEqual(ours, expected.result))
        found('csv', 'results differ', { input, options }, JSON.stringify(options))
      else if (random() < 0.25) {
        // output: 'json' must be JSON.stringify of the same result, byte for byte.
        const json = await pool.run({ input, ...options, output: 'json' }, { name: 'parseCsv', timeout: 30_000 })
        if (json.toString('utf8') !== JSON.stringify(expected.result))
          found('csv', "output: 'json' differs from JSON.stringify", { input, options }, JSON.stringify(options))
      }
    } catch (error) {
      if (!expected.error || error.code !== 'ERR_INVALID_ARG')
        found('csv', `rejected with ${error.code}`, { input, options }, error.message)
    }
  }
  return runs
}

// --- images ------------------------------------------------------------------------------

async function seedImages() {
  const rgba = { channels: 4 }
  return [
    await photo(320, 240, 'jpeg', { quality: 80 }),
    await photo(320, 240, 'jpeg', { quality: 80, progressive: true }),
    await photo(200, 150, 'png', rgba),
    await photo(200, 150, 'webp', { quality: 70 }),
    await photo(200, 150, 'webp', { lossless: true, ...rgba }),
    await photo(120, 90, 'gif'),
  ]
}

function mutated(random, image) {
  const bytes = Buffer.from(image)
  const edits = 1 + Math.floor(random() * 8)
  for (let i = 0; i < edits; i++) {
    const at = Math.floor(random() * bytes.length)
    const choice = random()
    if (choice < 0.6) bytes[at] = Math.floor(random() * 256)
    else if (choice < 0.8) bytes[at] ^= 1 << Math.floor(random() * 8)
    // Size fields set to their largest: the classic way to ask for huge allocations.
    else bytes.fill(0xff, at, Math.min(bytes.length, at + 1 + Math.floor(random() * 4)))
  }
  if (random() < 0.2) return bytes.subarray(0, Math.floor(random() * bytes.length))
  return bytes
}

const CODED = new Set(['ERR_TASK_FAILED', 'ERR_INPUT_TOO_LARGE', 'ERR_INVALID_ARG'])

async function fuzzImages(pool, random, until) {
  const images = await seedImages()
  const formats = ['jpeg', 'png', 'webp']
  let runs = 0
  while (Date.now() < until) {
    const input = mutated(random, images[Math.floor(random() * images.length)])
    const format = formats[Math.floor(random() * formats.length)]
    runs++
    try {
      const output = await pool.run({ input, width: 64, format }, { name: 'resize', timeout: 30_000 })
      const meta = await sharp(output).metadata()
      if (meta.format !== format || meta.width !== 64)
        found('images', 'a result that is not the image asked for', input, JSON.stringify(meta))
    } catch (error) {
      if (!CODED.has(error.code)) found('images', `rejected with ${error.code}`, input, error.message)
    }
    const rss = process.memoryUsage.rss()
    if (rss > RSS_LIMIT) {
      found('images', 'resident memory past the limit', input, `${rss} bytes`)
      break
    }
  }
  return runs
}

// --- passwords ---------------------------------------------------------------------------

/** The crates are Rust: cargo runs the differential test (src/tasks/password/differential.rs). */
async function fuzzPasswords(_pool, _random, until) {
  const seconds = Math.max(1, Math.round((until - Date.now()) / 1000))
  const test = spawnSync(
    'cargo',
    ['test', '--lib', 'fuzz_against_the_crates', '--', '--ignored', '--nocapture', '--test-threads', '1'],
    {
      cwd: path.join(__dirname, '..'),
      env: { ...process.env, CISTERNA_FUZZ_SECONDS: String(seconds), CISTERNA_FUZZ_SEED: String(SEED) },
      encoding: 'utf8',
      maxBuffer: 64 << 20,
    },
  )
  const output = `${test.stdout}${test.stderr}`
  if (test.status !== 0) found('passwords', 'a password function differs from its crate', SEED, output.slice(-2000))
  return Number(/passwords: (\d+) cases/.exec(output)?.[1] ?? 0)
}

async function main() {
  const random = prng(SEED)
  const targets = { csv: fuzzCsv, images: fuzzImages, passwords: fuzzPasswords }
  const chosen = args.target.filter((name) => targets[name])
  const pool = new Pool(2)
  console.log(`fuzz: seed ${SEED}, ${SECONDS} s over ${chosen.join(', ')}`)
  for (const name of chosen) {
    const until = Date.now() + (SECONDS * 1000) / chosen.length
    const runs = await targets[name](pool, random, until)
    console.log(`fuzz ${name}: ${runs} inputs`)
  }
  await pool.close()
  console.log(failures === 0 ? 'fuzz: nothing found' : `fuzz: ${failures} found`)
  process.exitCode = failures === 0 ? 0 : 1
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
