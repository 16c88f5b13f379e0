'use strict'
// How a worker file's task and its outcome cross between the main thread and a JS worker:
// V8's serializer (the structured-clone algorithm postMessage uses) into bytes the engine
// carries, or, for values moved without a copy (`move()`, `transferList`), the worker's port.

const v8 = require('node:v8')

/** What a worker's outcome bytes say, written before the value. */
const RETURNED = 0
const THREW = 1
/** The value follows through the worker's port, with its transferables moved. */
const BY_PORT = 2

const MOVED = Symbol('cisterna.moved')

/** A value to hand over without a copy: its ArrayBuffers and MessagePorts are transferred. */
class Moved {
  constructor(value, transferList) {
    this.value = value
    this.transferList = transferList
    Object.freeze(this)
  }

  get [MOVED]() {
    return true
  }
}

function isTransferable(value) {
  return (
    value instanceof ArrayBuffer ||
    (typeof MessagePort === 'function' && value instanceof MessagePort) ||
    (typeof value?.constructor?.name === 'string' && value.constructor.name === 'MessagePort')
  )
}

/**
 * Piscina's `move()`: marks `value` (an ArrayBuffer, a view on one, or a MessagePort) to be
 * transferred rather than copied, from `run` to the worker or from the worker's function
 * back. Anything else is returned as it is.
 */
function move(value) {
  if (value instanceof Moved) return value
  if (ArrayBuffer.isView(value)) return new Moved(value, [value.buffer])
  if (isTransferable(value)) return new Moved(value, [value])
  return value
}

function isMoved(value) {
  return value instanceof Moved
}

/**
 * Whether JSON text carries `value` exactly as the structured-clone algorithm would: plain
 * objects and arrays with no shared or cyclic parts and no `toJSON`, strings, booleans,
 * null, and finite numbers other than -0 (no `undefined`, so no holes). Such a value crosses
 * as JSON, which V8 writes and reads many times faster than a serializer is made for one
 * small value; anything else goes through V8's serializer.
 */
function isJsonExact(value) {
  if (typeof value !== 'object' || value === null) return isJsonExactPrimitive(value)
  return isJsonExactObject(value, new Set())
}

function isJsonExactPrimitive(value) {
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return true
  return typeof value === 'number' && Number.isFinite(value) && !Object.is(value, -0)
}

function isJsonExactObject(object, seen) {
  if (seen.has(object)) return false
  seen.add(object)
  const proto = Object.getPrototypeOf(object)
  if (Array.isArray(object)) {
    if (proto !== Array.prototype) return false
    for (let index = 0; index < object.length; index++) {
      if (!isJsonExactValue(object[index], seen)) return false
    }
    return true
  }
  if ((proto !== Object.prototype && proto !== null) || 'toJSON' in object) return false
  for (const key of Object.keys(object)) {
    if (!isJsonExactValue(object[key], seen)) return false
  }
  return true
}

function isJsonExactValue(value, seen) {
  return typeof value === 'object' && value !== null ? isJsonExactObject(value, seen) : isJsonExactPrimitive(value)
}

/** A task's data or result as it crosses: JSON text where that is exact, else V8's serialization. */
function pack(value) {
  return isJsonExact(value) ? JSON.stringify(value) : v8.serialize(value)
}

/** What `pack` made, as a value again. */
function unpack(packed) {
  return typeof packed === 'string' ? JSON.parse(packed) : v8.deserialize(packed)
}

function encode(tag, value) {
  const serializer = new v8.DefaultSerializer()
  serializer.writeHeader()
  serializer.writeUint32(tag)
  serializer.writeValue(value)
  return serializer.releaseBuffer()
}

/** `[tag, value]` of an outcome's bytes. */
function decode(bytes) {
  const deserializer = new v8.DefaultDeserializer(bytes)
  deserializer.readHeader()
  const tag = deserializer.readUint32()
  return [tag, deserializer.readValue()]
}

const ERROR_CLASSES = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError }

/** A thrown value as plain data: an Error's name, message, stack and own properties. */
function errorRecord(thrown) {
  if (!(thrown instanceof Error)) return { thrown: cloneable(thrown) }
  const properties = {}
  for (const key of Object.keys(thrown)) properties[key] = cloneable(thrown[key])
  const record = { name: thrown.name, message: thrown.message, stack: thrown.stack, properties }
  if (thrown.cause !== undefined) record.cause = cloneable(thrown.cause)
  return record
}

/** `value`, or a description of it when the serializer cannot take it. */
function cloneable(value) {
  try {
    v8.serialize(value)
    return value
  } catch {
    return String(value)
  }
}

/** The error a worker threw, made again on this side with its class, name, stack and properties. */
function errorFrom(record) {
  if (!('name' in record)) return record.thrown
  const ErrorClass = ERROR_CLASSES[record.name] ?? Error
  const error = new ErrorClass(record.message, record.cause === undefined ? undefined : { cause: record.cause })
  Object.defineProperty(error, 'name', { value: record.name, writable: true, configurable: true, enumerable: false })
  error.stack = record.stack
  Object.assign(error, record.properties)
  return error
}

module.exports = {
  RETURNED,
  THREW,
  BY_PORT,
  Moved,
  move,
  isMoved,
  isJsonExact,
  pack,
  unpack,
  encode,
  decode,
  errorRecord,
  errorFrom,
}
