import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

/**
 * The layout of a data directory this build reads and writes. Raise it when
 * the layout changes incompatibly; an older build then refuses the directory
 * instead of misreading it.
 */
export const DATA_DIR_FORMAT = 1

/** Written once into every data directory: `{"format": N}`. */
export const FORMAT_FILE = 'chronos-data.json'
/** The pid of the node holding the directory, for the "in use" message (LevelDB's lock decides). */
export const PID_FILE = 'chronos-node.pid'

export type DataDirErrorCode = 'DATA_DIR_IN_USE' | 'DATA_DIR_TOO_NEW' | 'DATA_DIR_INVALID'

/** A data directory this node cannot use; `message` says why and what to do. */
export class DataDirError extends Error {
  constructor(
    readonly code: DataDirErrorCode,
    readonly dir: string,
    message: string,
  ) {
    super(message)
    this.name = 'DataDirError'
  }
}

function readFormat(dir: string): number | undefined {
  let text: string
  try {
    text = readFileSync(join(dir, FORMAT_FILE), 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
  let format: unknown
  try {
    format = (JSON.parse(text) as { format?: unknown }).format
  } catch {
    format = undefined
  }
  if (!Number.isInteger(format) || (format as number) < 1)
    throw new DataDirError(
      'DATA_DIR_INVALID',
      dir,
      `data directory ${dir}: ${FORMAT_FILE} does not hold {"format": <integer ≥ 1>}`,
    )
  return format as number
}

/**
 * Creates the directory if needed and checks its format before anything in
 * it is opened: a directory written by a newer chronos-node is refused. A
 * directory without a format file (new, or from before formats existed: the
 * same layout) is stamped with this build's format.
 */
export function prepareDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true })
  const format = readFormat(dir)
  if (format !== undefined && format > DATA_DIR_FORMAT)
    throw new DataDirError(
      'DATA_DIR_TOO_NEW',
      dir,
      `data directory ${dir} has format ${format}, written by a newer chronos-node; this one reads format ${DATA_DIR_FORMAT} (upgrade chronos-node, or use another --data)`,
    )
  if (format === undefined) {
    const temporary = join(dir, `${FORMAT_FILE}.tmp`)
    writeFileSync(temporary, `${JSON.stringify({ format: DATA_DIR_FORMAT })}\n`)
    renameSync(temporary, join(dir, FORMAT_FILE))
  }
}

/** The pid recorded by the node holding `dir`, if it left one. */
function recordedPid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(dir, PID_FILE), 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}

/** Whether `error` is LevelDB refusing a database another process holds. */
function isLocked(error: unknown): boolean {
  for (let e = error as { code?: unknown; cause?: unknown } | undefined; e; e = e.cause as never)
    if (e.code === 'LEVEL_LOCKED') return true
  return false
}

/**
 * Runs `open` (which opens the database under `dir`) and turns LevelDB's
 * lock refusal into "in use by another chronos-node (pid N)". On success the
 * pid file names this process; `release` removes it.
 */
export async function claimDataDir<T>(
  dir: string,
  open: () => Promise<T>,
): Promise<{ value: T; release: () => void }> {
  let value: T
  try {
    value = await open()
  } catch (error) {
    if (!isLocked(error)) throw error
    const pid = recordedPid(dir)
    throw new DataDirError(
      'DATA_DIR_IN_USE',
      dir,
      `data directory ${dir} is in use by another chronos-node${pid ? ` (pid ${pid})` : ''}: stop it or give this one another --data`,
    )
  }
  writeFileSync(join(dir, PID_FILE), `${process.pid}\n`)
  return {
    value,
    release: () => {
      if (recordedPid(dir) === process.pid) rmSync(join(dir, PID_FILE), { force: true })
    },
  }
}
