'use strict'
// `npm run package`: the tarballs a release publishes, in dist/:
//   cisterna-<version>.tgz                 the main package; its optionalDependencies name
//                                          every platform's binary package
//   cisterna-<platform>-<version>.tgz      this platform's binary package (release build)
// Installed together they need no build step; the main one alone builds from source.
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const path = require('node:path')
const { platformSuffix } = require('../lib/platform.js')

const root = path.join(__dirname, '..')
const dist = path.join(root, 'dist')
const manifest = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm'

/** Packs `folder` into dist/ and returns the tarball's name. */
function pack(folder) {
  const [{ filename }] = JSON.parse(
    execFileSync(npm, ['pack', '--json', '--pack-destination', dist], { cwd: folder, encoding: 'utf8' }),
  )
  return filename
}

function writeJson(file, value) {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`)
}

fs.rmSync(dist, { recursive: true, force: true })
fs.mkdirSync(dist)

execFileSync(process.execPath, [path.join(__dirname, 'build.js')], { cwd: root, stdio: 'inherit' })

// This platform's binary package: its npm/ manifest at this version, and the release build.
const suffix = platformSuffix()
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
const [{ files }] = JSON.parse(execFileSync(npm, ['pack', '--dry-run', '--json'], { cwd: root, encoding: 'utf8' }))
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
