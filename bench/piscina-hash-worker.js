'use strict'
// The anchor's side of bench/hash.js: node:crypto in a Piscina worker.
const crypto = require('node:crypto')

module.exports = ({ data, algorithm }) => crypto.createHash(algorithm).update(data).digest('hex')
