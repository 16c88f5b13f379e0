'use strict'
// `npm install`: in a clone, build from source with cargo (quick when nothing changed). As a
// dependency, use the platform's prebuilt package when it loads, else build from source.
const path = require('node:path')

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

if (!isDependency) {
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
