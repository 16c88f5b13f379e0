'use strict'
// The anchor's side of bench/pool.js: the same fib work in JavaScript, in a Piscina worker.

function fibIterative(n) {
  let a = 0
  let b = 1
  for (let i = 0; i < n; i++) [a, b] = [b, a + b]
  return a
}

function fibRecursive(n) {
  return n < 2 ? n : fibRecursive(n - 1) + fibRecursive(n - 2)
}

module.exports = ({ n, algorithm }) => (algorithm === 'recursive' ? fibRecursive(n) : fibIterative(n))
