// Worker files' functions as `run` types them from the module's exports.
import { move, Pool } from '../../index.js'

export function add(data: { a: number; b: number }): number {
  return data.a + data.b
}
export async function shout(text: string, { signal }: { signal: AbortSignal }): Promise<string> {
  signal.throwIfAborted()
  return text.toUpperCase()
}
export default (bytes: Uint8Array) => bytes.byteLength
export const notAFunction = 42

async function usage(): Promise<void> {
  const pool = new Pool<typeof import('./workers.js')>({ filename: __filename })
  const sum: number = await pool.run({ a: 1, b: 2 }, { name: 'add' })
  const loud: string = await pool.run('hi', { name: 'shout', timeout: 100 })
  const length: number = await pool.run(new Uint8Array(4))
  const moved: number = await pool.run(move(new Uint8Array(4)))
  // Native tasks keep their types on the same pool.
  const digest: string = await pool.run('x', 'hash')
  void [sum, loud, length, moved, digest]

  // @ts-expect-error add takes { a, b }
  await pool.run('x', { name: 'add' })
  // @ts-expect-error not a function
  await pool.run(1, { name: 'notAFunction' })
  // @ts-expect-error no such export
  await pool.run(1, { name: 'missing' })
  // @ts-expect-error a string names a native task, and this is none
  await pool.run(1, 'add')
}
void usage
