'use strict'
// Builds the addon with cargo alone (no devDependency needed, so a packed package builds too)
// and puts it where binding.js looks first: ./cisterna.<platform>.node.
//
//   node scripts/build.js                              release profile, for this machine
//   node scripts/build.js --debug                      dev profile
//   node scripts/build.js --platform linux-arm64-musl  release profile, for that platform
//   node scripts/build.js --out <file>                 the binary to <file> instead
//
// A build from source is for the machine it runs on: where that is a Linux x64 CPU with the
// x86-64-v3 features (AVX2, BMI2, FMA: Intel Haswell, AMD Excavator and later), the bundled C
// libraries are compiled for them. CISTERNA_PORTABLE=1 builds for any x86-64 instead, for a
// binary that moves to other machines. CISTERNA_GLIBC=2.17 (Linux, glibc) links against that
// glibc's symbols, so the binary loads on any glibc since; it needs cargo-zigbuild and zig
// (pip install ziglang cargo-zigbuild), and is what `npm run package` ships. A build for
// another platform (--platform) links with the same two tools, which carry every target's C
// compiler and libc; Rust needs the target (rustup target add <triple>).
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { platformSuffix, REQUIREMENTS } = require('../lib/platform.js')

const root = path.join(__dirname, '..')
/** The Rust target of each platform built from another one, or for a glibc floor. */
const RUST_TARGETS = {
  'linux-x64-gnu': 'x86_64-unknown-linux-gnu',
  'linux-arm64-gnu': 'aarch64-unknown-linux-gnu',
  'linux-x64-musl': 'x86_64-unknown-linux-musl',
  'linux-arm64-musl': 'aarch64-unknown-linux-musl',
}
const X86_64_V3_FLAGS = ['popcnt', 'avx', 'avx2', 'bmi1', 'bmi2', 'f16c', 'fma', 'abm', 'movbe', 'xsave']

function cpuFlags() {
  try {
    const line = fs.readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)
    return new Set(line ? line[1].trim().split(/\s+/) : [])
  } catch {
    return new Set()
  }
}

function hostIsX8664V3() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return false
  const flags = cpuFlags()
  return X86_64_V3_FLAGS.every((flag) => flags.has(flag))
}

function fail(message) {
  console.error(`cisterna: ${message}\ncisterna: building from source needs ${REQUIREMENTS}.`)
  process.exit(1)
}

function option(name) {
  const at = process.argv.indexOf(name)
  return at === -1 ? undefined : process.argv[at + 1]
}

/** The cargo subcommand and target that build `suffix`: cargo-zigbuild for another platform or a glibc floor. */
function cargoTarget(suffix, env) {
  const glibc = env.CISTERNA_GLIBC
  if (glibc && !suffix.endsWith('-gnu')) fail(`CISTERNA_GLIBC applies to Linux glibc builds, not to ${suffix}`)
  if (suffix === platformSuffix() && !glibc) return ['build']
  const target = RUST_TARGETS[suffix]
  if (!target)
    fail(
      `${suffix} is built on its own platform only; those built from elsewhere: ${Object.keys(RUST_TARGETS).join(', ')}`,
    )
  if (spawnSync('cargo', ['zigbuild', '--help'], { stdio: 'ignore' }).status !== 0) {
    fail(
      `building for ${suffix}${glibc ? ` at glibc ${glibc}` : ''} needs cargo-zigbuild and zig on PATH (pip install ziglang cargo-zigbuild)`,
    )
  }
  const installed = spawnSync('rustup', ['target', 'list', '--installed'], { encoding: 'utf8' }).stdout ?? ''
  if (!installed.split('\n').includes(target)) fail(`Rust has no ${target} here (rustup target add ${target})`)
  return ['zigbuild', '--target', glibc ? `${target}.${glibc}` : target]
}

function build({ debug, platform, out }) {
  const suffix = platform ?? platformSuffix()
  if (!suffix) fail(`no build target is known for ${process.platform}-${process.arch}`)
  if (spawnSync('cargo', ['--version'], { stdio: 'ignore' }).error) fail('cargo is not on PATH')

  const env = { ...process.env }
  if (!env.CISTERNA_PORTABLE && suffix === platformSuffix() && hostIsX8664V3()) {
    // The features one by one rather than -march=x86-64-v3, which compilers before GCC 11
    // and Clang 12 do not know.
    env.CFLAGS = [env.CFLAGS, '-mpopcnt -mavx -mavx2 -mbmi -mbmi2 -mf16c -mfma -mlzcnt -mmovbe -mxsave']
      .filter(Boolean)
      .join(' ')
    console.log('cisterna: C libraries built for x86-64-v3, as this CPU has it (CISTERNA_PORTABLE=1 for any x86-64)')
  }

  const args = [
    ...cargoTarget(suffix, env),
    '--lib',
    '--message-format=json-render-diagnostics',
    ...(debug ? [] : ['--release']),
  ]
  const cargo = spawnSync('cargo', args, {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 256 * 1024 * 1024,
  })
  if (cargo.status !== 0) fail(`cargo build failed (exit ${cargo.status})`)

  // cargo names the built library; where it lies depends on CARGO_TARGET_DIR and the profile.
  const library = cargo.stdout
    .toString()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line))
    .filter((message) => message.reason === 'compiler-artifact' && message.target.kind.includes('cdylib'))
    .flatMap((message) => message.filenames)
    .find((file) => /\.(so|dylib|dll)$/.test(file))
  if (!library) fail('cargo built no cdylib')
  const destination = out ?? path.join(root, `cisterna.${suffix}.node`)
  // A fresh file rather than an overwrite: a running process may have the old one mapped.
  fs.rmSync(destination, { force: true })
  fs.copyFileSync(library, destination)
  console.log(`cisterna: built ${path.basename(destination)}`)
}

build({ debug: process.argv.includes('--debug'), platform: option('--platform'), out: option('--out') })
