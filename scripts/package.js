'use strict'
// `npm run package`: the tarballs a release publishes, in dist/:
//   cisterna-<version>.tgz                 the main package; its optionalDependencies name
//                                          the platform packages a release builds (npm/)
//   cisterna-<platform>-<version>.tgz      this platform's binary package: a release build
//                                          for any CPU of its architecture (CISTERNA_PORTABLE)
//                                          and, on Linux, any glibc since 2.17 (CISTERNA_GLIBC,
//                                          with cargo-zigbuild and zig: pip install ziglang
//                                          cargo-zigbuild)
// Installed together they need no build step; the main one alone builds from source.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { platformSuffix } = require('../lib/platform.js')

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

// What a release ships runs on every CPU of its architecture: the C libraries are built for
// the baseline (libjpeg-turbo picks its SIMD at run time), in a build tree of their own; a
// Linux glibc build needs nothing newer than glibc 2.17, as napi-rs's own packages.
const suffix = platformSuffix()
const floor = suffix?.endsWith('-gnu') ? { CISTERNA_GLIBC: '2.17' } : {}
execFileSync(process.execPath, [path.join(__dirname, 'build.js')], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, ...floor, CISTERNA_PORTABLE: '1', CARGO_TARGET_DIR: path.join(root, 'target', 'portable') },
})

// This platform's binary package: its npm/ manifest at this version, and the release build.
const binary = `cisterna.${suffix}.node`
const platformStage = path.join(dist, 'stage', suffix)
fs.mkdirSync(platformStage, { recursive: true })
const platformManifest = JSON.parse(fs.readFileSync(path.join(root, 'npm', suffix, 'package.json'), 'utf8'))
writeJson(path.join(platformStage, 'package.json'), { ...platformManifest, version: manifest.version })
fs.copyFileSync(path.join(root, 'npm', suffix, 'README.md'), path.join(platformStage, 'README.md'))
fs.copyFileSync(path.join(root, binary), path.join(platformStage, binary))

// The main package: the files `npm pack` would take, and optionalDependencies on every
// platform package at this version (what `napi prepublish` writes before a publish).
const mainStage = path.join(dist, 'stage', 'main')
const [{ files }] = JSON.parse(npm(['pack', '--dry-run', '--json'], root))
for (const { path: file } of files) {
  fs.mkdirSync(path.dirname(path.join(mainStage, file)), { recursive: true })
  fs.copyFileSync(path.join(root, file), path.join(mainStage, file))
}
const optionalDependencies = Object.fromEntries(
  fs.readdirSync(path.join(root, 'npm')).map((platform) => [`cisterna-${platform}`, manifest.version]),
)
writeJson(path.join(mainStage, 'package.json'), { ...manifest, optionalDependencies })

const tarballs = [pack(mainStage), pack(platformStage)]
fs.rmSync(path.join(dist, 'stage'), { recursive: true })
console.log(`cisterna: packed ${tarballs.map((file) => path.join('dist', file)).join(' and ')}`)
