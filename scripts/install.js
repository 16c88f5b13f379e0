'use strict'
// `npm install`: in a clone, build from source with cargo (quick when nothing changed). As a
// dependency, use the platform's prebuilt package when it loads, else build from source. An
// install for another platform (npm install --os --cpu --libc, say for a container image)
// builds nothing here: it needs that platform's package, which npm picked by the same flags.
const path = require('node:path')
const { installTarget, platformSuffix } = require('../lib/platform.js')

const root = path.join(__dirname, '..')
const isDependency = root.split(path.sep).includes('node_modules')

function loads() {
  try {
    require(path.join(root, 'binding.js'))
    return true
  } catch {
    return false
  }
}

/** Whether npm installed `target`'s binary package beside this one. */
function hasPackageOf(target) {
  try {
    require.resolve(`cisterna-${target}/package.json`, { paths: [root] })
    return true
  } catch {
    return false
  }
}

const target = installTarget()
if (target !== platformSuffix()) {
  if (!hasPackageOf(target)) {
    console.error(`cisterna: no prebuilt binary for ${target ?? 'that platform'}; install there to build from source`)
    process.exit(1)
  }
} else if (!isDependency) {
  require('./build.js')
} else if (!loads()) {
  console.log('cisterna: no prebuilt binary loads on this platform; building from source (cargo, release profile)…')
  // Cargo's build tree (hundreds of MB) goes to a temporary folder, not into node_modules,
  // unless CARGO_TARGET_DIR names one to keep.
  if (!process.env.CARGO_TARGET_DIR) {
    const fs = require('node:fs')
    const targetDir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'cisterna-build-'))
    process.env.CARGO_TARGET_DIR = targetDir
    process.on('exit', () => fs.rmSync(targetDir, { recursive: true, force: true }))
  }
  require('./build.js')
}
