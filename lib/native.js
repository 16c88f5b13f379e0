'use strict'
// The native addon, through the loader napi-rs generates (binding.js), or an error that says
// how to get one.
const { REQUIREMENTS } = require('./platform.js')

function load() {
  try {
    return require('../binding.js')
  } catch (cause) {
    throw new Error(
      `cisterna: no native binary loads on ${process.platform}-${process.arch}. npm installs the prebuilt ` +
        'one with cisterna where there is one; elsewhere allow its install script to build it from source ' +
        `(npm install-scripts approve cisterna, then npm rebuild cisterna), which needs ${REQUIREMENTS}.`,
      { cause },
    )
  }
}

module.exports = load()
