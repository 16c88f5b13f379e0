'use strict'
// Which binary fits this machine, named as binding.js and the npm/ packages name it.

/** What a build from source needs; the README and index.d.ts say the same. */
const REQUIREMENTS =
  'Rust (cargo, https://rustup.rs) and a C compiler (gcc, clang or MSVC); nasm on PATH is optional and makes JPEG faster'

function isMusl() {
  const report = process.report?.getReport()
  return process.platform === 'linux' && !report?.header?.glibcVersionRuntime
}

/**
 * `linux-x64-gnu`, `darwin-arm64`, …, or undefined where no binary is built: for this process,
 * or for another machine's os, cpu and libc (what `npm install --os --cpu --libc` installs for).
 */
function platformSuffix({ platform = process.platform, arch = process.arch, musl = isMusl() } = {}) {
  if (platform === 'linux' && (arch === 'x64' || arch === 'arm64')) return `linux-${arch}-${musl ? 'musl' : 'gnu'}`
  if (platform === 'darwin' && (arch === 'x64' || arch === 'arm64')) return `darwin-${arch}`
  if (platform === 'win32' && arch === 'x64') return 'win32-x64-msvc'
  return undefined
}

/** The platform npm is installing for: this one, unless `--os`, `--cpu` or `--libc` name another. */
function installTarget(env = process.env) {
  return platformSuffix({
    platform: env.npm_config_os || process.platform,
    arch: env.npm_config_cpu || process.arch,
    musl: env.npm_config_libc ? env.npm_config_libc === 'musl' : isMusl(),
  })
}

module.exports = { REQUIREMENTS, installTarget, platformSuffix }
