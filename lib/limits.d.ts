/** Task names with a deadline in a policy. */
export type LimitedTask = 'hash' | 'hashPassword' | 'verifyPassword' | 'resize' | 'parseCsv' | 'fib'

/** A policy: what a caller may ask of the pool, and how long each task may run. */
export interface Limits {
  /** The algorithms `hashPassword` may be asked for; default all three. */
  readonly passwordAlgorithms: readonly ('bcrypt' | 'argon2id' | 'scrypt')[]
  /** Highest bcrypt cost (log2 of the rounds), for hashing and in stored hashes; default 12. */
  readonly bcryptMaxCost: number
  /** Highest Argon2id cost (passes over 19 MiB); a stored hash may ask for memory × passes up to 19 MiB × this; default 4. */
  readonly argon2MaxCost: number
  /** Highest scrypt cost (log2 N at r = 8, p = 1); a stored hash may ask for 128 · r · N · p up to that; default 17. */
  readonly scryptMaxCost: number
  /** Bytes (UTF-8) of a password; default 1024. */
  readonly passwordMaxBytes: number
  /** A resize's `width` and `height`; default 8192. */
  readonly imageMaxDimension: number
  /** Pixels of an image to resize, read from its header; `limitInputPixels` may lower it; default 50 000 000. */
  readonly imageMaxInputPixels: number
  /** Bytes of an encoded image; default 32 MiB. */
  readonly imageMaxBytes: number
  /** Bytes of a CSV text; default 16 MiB. */
  readonly csvMaxBytes: number
  /** Bytes of data to hash; default 64 MiB. */
  readonly hashMaxBytes: number
  /** Milliseconds each task may run before it is stopped with ERR_TIMEOUT. */
  readonly timeouts: Readonly<Record<LimitedTask, number>>
}

export type LimitOverrides = Partial<Omit<Limits, 'timeouts'>> & { timeouts?: Partial<Record<LimitedTask, number>> }

/** The codes of data past a bound; each error is a RangeError with the bound as `limit`. */
export type LimitCode =
  | 'ERR_LIMIT_PASSWORD_ALGORITHM'
  | 'ERR_LIMIT_PASSWORD_COST'
  | 'ERR_LIMIT_PASSWORD_LENGTH'
  | 'ERR_LIMIT_IMAGE_DIMENSION'
  | 'ERR_LIMIT_IMAGE_PIXELS'
  | 'ERR_LIMIT_IMAGE_BYTES'
  | 'ERR_LIMIT_CSV_BYTES'
  | 'ERR_LIMIT_HASH_BYTES'

export declare const DEFAULT_LIMITS: Limits

/** `DEFAULT_LIMITS` with `overrides` over them; an unknown key or a value that is not a positive integer throws ERR_INVALID_ARG. */
export declare function createLimits(overrides?: LimitOverrides): Limits

/**
 * The overrides an environment sets: each bound under its name in capitals (`BCRYPT_MAX_COST`,
 * `CSV_MAX_BYTES`), `PASSWORD_ALGORITHMS` as a comma list, each deadline as `<TASK>_TIMEOUT_MS`
 * (`HASH_PASSWORD_TIMEOUT_MS`).
 */
export declare function limitsFromEnv(env?: Record<string, string | undefined>): LimitOverrides

/**
 * The data to run task `name` with under `limits`: `data`, or a copy with the policy's defaults
 * filled in. Throws a RangeError with an `ERR_LIMIT_*` code past a bound.
 */
export declare function checkTask<T>(limits: Limits, name: string, data: T): T
