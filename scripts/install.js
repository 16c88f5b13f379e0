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
  require('./build.js')
}
