'use strict'
// The Piscina side of bench/server/baseline.js.

const { createHash } = require('node:crypto')
const Papa = require('papaparse')

module.exports.hash = ({ data, algorithm }) => createHash(algorithm).update(data).digest('hex')
module.exports.csv = ({ text, options }) => Papa.parse(text, options)
