'use strict'
// `npm install` on a clone (or where no prebuilt binary fits this platform) builds the
// addon from source with the napi CLI; where a binary loads already, it does nothing.
const { execSync } = require('node:child_process')
const path = require('node:path')

const root = path.join(__dirname, '..')

function loads() {
  try {
    require(path.join(root, 'binding.js'))
    return true
  } catch {
    return false
  }
}

if (!loads()) {
  console.log('cisterna: no prebuilt binary for this platform; building from source (cargo, release profile)…')
  try {
    execSync('npm run build', { cwd: root, stdio: 'inherit' })
  } catch (error) {
    console.error(
      'cisterna: the build failed. It needs Rust (cargo, https://rustup.rs), a C compiler, cmake and nasm ' +
        '(Debian/Ubuntu: apt-get install cmake nasm), and the devDependency @napi-rs/cli.',
    )
    process.exit(typeof error.status === 'number' ? error.status : 1)
  }
}
