'use strict'
// `npm run bench:builds`: every figure of `npm run bench`, with two builds of the addon in one
// run, one benchmark at a time under each in turn: the build from source for this machine
// (`npm run build`: x86-64-v3 where the CPU has it, nasm's SIMD when present) and the portable
// prebuilt a release ships (`npm run package`: any CPU of the architecture, glibc 2.17). Each
// figure is a ratio against its anchor in the same process, so the two columns compare
// through the anchor, and the last column is the portable build's ratio over the other's.
// A virtual machine's speed drifts over minutes, so the two take turns ROUNDS times per
// benchmark, and each column is the median of its rounds.
// Each build in turn is put where binding.js loads it (NAPI_RS_NATIVE_LIBRARY_PATH would
// redirect every napi-rs addon, the anchors' too); this machine's is put back at the end.
//
//   node bench/builds.js [<this machine's .node> <portable .node>]      ROUNDS=3 by default
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { platformSuffix } = require('../lib/platform.js')
const { median, SUITE } = require('./harness.js')

const ROUNDS = Number(process.env.ROUNDS ?? 3)

const root = path.join(__dirname, '..')
const scratch = fs.mkdtempSync(path.join(os.tmpdir(), 'cisterna-builds-'))

/** The binary in this platform's tarball from `npm run package`. */
function packedBinary() {
  const platform = platformSuffix()
  const tarball = fs.readdirSync(path.join(root, 'dist')).find((file) => file.startsWith(`cisterna-${platform}-`))
  if (!tarball) throw new Error(`no dist/cisterna-${platform}-*.tgz: run npm run package first`)
  execFileSync('tar', ['-xzf', path.join(root, 'dist', tarball), '-C', scratch])
  return path.join(scratch, 'package', `cisterna.${platform}.node`)
}

const loaded = path.join(root, `cisterna.${platformSuffix()}.node`)
const kept = path.join(scratch, 'this-machine.node')
fs.copyFileSync(path.resolve(process.argv[2] ?? loaded), kept)
const builds = { 'this machine': kept, portable: path.resolve(process.argv[3] ?? packedBinary()) }
const results = Object.fromEntries(Object.keys(builds).map((build) => [build, path.join(scratch, `${build}.jsonl`)]))

/** Puts `binary` where binding.js loads it: a fresh file, as a running process may map the old one. */
function use(binary) {
  fs.rmSync(loaded, { force: true })
  fs.copyFileSync(binary, loaded)
}
process.on('exit', () => {
  use(kept)
  fs.rmSync(scratch, { recursive: true, force: true })
})
process.on('SIGINT', () => process.exit(130))

for (const bench of SUITE) {
  for (let round = 1; round <= ROUNDS; round++) {
    for (const [build, binary] of Object.entries(builds)) {
      console.log(`\n== ${bench} with the ${build} build, round ${round} of ${ROUNDS}`)
      use(binary)
      execFileSync(process.execPath, [path.join(__dirname, bench)], {
        stdio: 'inherit',
        env: { ...process.env, BENCH_RESULTS: results[build] },
      })
    }
  }
}

/** Each figure's median ratio over the rounds. */
function read(file) {
  const rounds = new Map()
  for (const line of fs.readFileSync(file, 'utf8').trim().split('\n')) {
    const { name, anchorName, ratio } = JSON.parse(line)
    const figure = `${name} vs ${anchorName}`
    rounds.set(figure, [...(rounds.get(figure) ?? []), ratio])
  }
  return new Map([...rounds].map(([figure, ratios]) => [figure, median(ratios)]))
}
const [native, portable] = Object.values(results).map(read)
console.log(`\n${'figure'.padEnd(80)} this machine   portable   portable / this machine`)
for (const [figure, ratio] of native) {
  const other = portable.get(figure)
  const change = other / ratio
  const flag = change < 0.95 ? '  (more than 5 % lower)' : ''
  console.log(
    `${figure.padEnd(80)} ${ratio.toFixed(2).padStart(11)}× ${other.toFixed(2).padStart(9)}× ${change.toFixed(2).padStart(9)}×${flag}`,
  )
}
