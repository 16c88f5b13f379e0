'use strict'
// Optional peer dependencies (prom-client, bullmq): loaded when first used, with an error
// that says what to install.

function requirePeer(name, feature) {
  try {
    return require(name)
  } catch (error) {
    const missing = new Error(`${feature} needs ${name}: npm install ${name}`)
    missing.code = 'ERR_MISSING_PEER'
    missing.cause = error
    throw missing
  }
}

module.exports = { requirePeer }
