'use strict'
// Every failure Rust can report becomes the Error docs/api.md names, with its code and class.
const test = require('ava')
const fs = require('node:fs')
const path = require('node:path')
const { failureKinds } = require('../binding.js')
const errors = require('../lib/errors.js')

const expected = {
  InvalidType: ['ERR_INVALID_ARG', TypeError],
  OutOfRange: ['ERR_INVALID_ARG', RangeError],
  QueueFull: ['ERR_QUEUE_FULL', Error],
  PoolClosed: ['ERR_POOL_CLOSED', Error],
  Aborted: ['ERR_ABORTED', Error],
  InputTooLarge: ['ERR_INPUT_TOO_LARGE', RangeError],
  TaskFailed: ['ERR_TASK_FAILED', Error],
  TaskPanicked: ['ERR_TASK_PANICKED', Error],
  FileNotFound: ['ERR_FILE_NOT_FOUND', Error],
  FileRead: ['ERR_FILE_READ', Error],
  FileWrite: ['ERR_FILE_WRITE', Error],
  WorkerExited: ['ERR_WORKER_EXITED', Error],
}

test('each native failure kind maps to its code and error class', (t) => {
  const kinds = failureKinds()
  t.deepEqual(
    kinds.map(({ code, className }) => [code, className]),
    Object.values(expected).map(([code, ErrorClass]) => [code, ErrorClass.name]),
    'the kinds in the order of their numbers',
  )
  kinds.forEach(({ code }, index) => {
    const name = Object.keys(expected)[index]
    const error = errors.fromNative(index + 1, `message of ${name}`)
    const [, ErrorClass] = expected[name]
    t.is(error.code, code, name)
    t.is(error.constructor, ErrorClass, name)
    if (name !== 'Aborted') t.is(error.message, `message of ${name}`)
  })
  t.is(errors.fromNative(5, 'x').name, 'AbortError')
  t.is(errors.fromNative(99, 'x').code, 'ERR_TASK_FAILED', 'an unknown kind')
})

test("index.d.ts's ErrorCode lists exactly the codes run can reject with", (t) => {
  const declarations = fs.readFileSync(path.join(__dirname, '..', 'index.d.ts'), 'utf8')
  const union = /export type ErrorCode =([\s\S]*?)\n\n/.exec(declarations)[1]
  const declared = [...union.matchAll(/'(ERR_\w+)'/g)].map((match) => match[1])
  const fromJs = ['ERR_UNKNOWN_TASK', 'ERR_TIMEOUT', 'ERR_INTERNAL']
  const fromRust = failureKinds().map(({ code }) => code)
  t.deepEqual([...new Set(declared)].sort(), [...new Set([...fromRust, ...fromJs])].sort())
})
