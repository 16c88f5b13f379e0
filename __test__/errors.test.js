'use strict'
// Every failure Rust can report becomes the Error docs/api.md names, with its code and class.
const test = require('ava')
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
}

test('each native failure kind maps to its code and error class', (t) => {
  const kinds = failureKinds()
  t.deepEqual([...kinds].sort(), Object.keys(expected).sort())
  kinds.forEach((name, index) => {
    const error = errors.fromNative(index + 1, `message of ${name}`)
    const [code, ErrorClass] = expected[name]
    t.is(error.code, code, name)
    t.true(error instanceof ErrorClass, name)
    if (name !== 'Aborted') t.is(error.message, `message of ${name}`)
  })
  t.is(errors.fromNative(1, 'x').constructor, TypeError)
  t.is(errors.fromNative(2, 'x').constructor, RangeError)
})
