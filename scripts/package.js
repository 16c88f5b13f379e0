'use strict'
// `npm run package`: the tarballs a release publishes, in dist/:
//   cisterna-<version>.tgz                 the main package; its optionalDependencies name
//                                          every platform package a release builds (npm/)
//   cisterna-<platform>-<version>.tgz      one per platform in npm/: a release build for any
//                                          CPU of its architecture (CISTERNA_PORTABLE), on
//                                          glibc for any glibc since 2.17 (CISTERNA_GLIBC), on
//                                          musl linked to musl's libc.so
// Each platform is built once, with cargo-zigbuild and zig (pip install ziglang
// cargo-zigbuild) and the Rust targets (rustup target add); `--platform <name>` (repeatable)
// builds only those. Installed together they need no build step; the main one alone builds
// from source.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')

const root = path.join(__dirname, '..')
const dist = path.join(root, 'dist')
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
/** npm's output: on Windows npm is npm.cmd, which Node runs only through a shell. */
function npm(args, cwd) {
  const windows = process.platform === 'win32'
  return execFileSync(windows ? 'npm.cmd' : 'npm', args, { cwd, encoding: 'utf8', shell: windows })
}

/** Packs `folder` into dist/ and returns the tarball's name. */
function pack(folder) {
  const [{ filename }] = JSON.parse(npm(['pack', '--json', '--pack-destination', dist], folder))
  return filename
}

function writeJson(file, value) {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`)
}

fs.rmSync(dist, { recursive: true, force: true })
fs.mkdirSync(dist)

const released = fs.readdirSync(path.join(root, 'npm'))
const requested = process.argv.flatMap((arg, at) => (process.argv[at - 1] === '--platform' ? [arg] : []))
const unknown = requested.filter((platform) => !released.includes(platform))
if (unknown.length > 0)
  throw new Error(`no npm/ package for ${unknown.join(', ')}; a release builds ${released.join(', ')}`)

/**
 * Builds `platform`'s binary package and packs it. What a release ships runs on every CPU of its
 * architecture: the C libraries are built for the baseline (libjpeg-turbo picks its SIMD at run
 * time), in a build tree of their own; a glibc build needs nothing newer than glibc 2.17, as
 * napi-rs's own packages.
 */
function packPlatform(platform) {
  const stage = path.join(dist, 'stage', platform)
  fs.mkdirSync(stage, { recursive: true })
  const binary = path.join(stage, `cisterna.${platform}.node`)
  const floor = platform.endsWith('-gnu') ? { CISTERNA_GLIBC: '2.17' } : {}
  execFileSync(process.execPath, [path.join(__dirname, 'build.js'), '--platform', platform, '--out', binary], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, ...floor, CISTERNA_PORTABLE: '1', CARGO_TARGET_DIR: path.join(root, 'target', 'portable') },
  })
  const platformManifest = JSON.parse(fs.readFileSync(path.join(root, 'npm', platform, 'package.json'), 'utf8'))
  writeJson(path.join(stage, 'package.json'), { ...platformManifest, version: manifest.version })
  fs.copyFileSync(path.join(root, 'npm', platform, 'README.md'), path.join(stage, 'README.md'))
  return pack(stage)
}

// The main package: the files `npm pack` would take, and optionalDependencies on every
// platform package at this version (what `napi prepublish` writes before a publish).
const mainStage = path.join(dist, 'stage', 'main')
const [{ files }] = JSON.parse(npm(['pack', '--dry-run', '--json'], root))
for (const { path: file } of files) {
  fs.mkdirSync(path.dirname(path.join(mainStage, file)), { recursive: true })
  fs.copyFileSync(path.join(root, file), path.join(mainStage, file))
}
const optionalDependencies = Object.fromEntries(released.map((platform) => [`cisterna-${platform}`, manifest.version]))
writeJson(path.join(mainStage, 'package.json'), { ...manifest, optionalDependencies })

const tarballs = [pack(mainStage), ...(requested.length > 0 ? requested : released).map(packPlatform)]
fs.rmSync(path.join(dist, 'stage'), { recursive: true })
console.log(`cisterna: packed ${tarballs.map((file) => path.join('dist', file)).join(' and ')}`)
