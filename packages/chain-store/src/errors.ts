import { ChronosError } from '@chronos/codec'

export type ChainStoreErrorCode =
  | 'GENESIS_MISMATCH'
  | 'STORE_CORRUPT'
  | 'NOT_ON_HEAD'
  | 'INVALID_REORG'
  | 'STORE_CLOSED'

export class ChainStoreError extends ChronosError<ChainStoreErrorCode> {}

/** The store on disk was made for another network. */
export class GenesisMismatchError extends ChainStoreError {
  constructor(
    readonly storedGenesis: string,
    readonly expectedGenesis: string,
  ) {
    super(
      'GENESIS_MISMATCH',
      `store was created for genesis ${storedGenesis}, but this node runs genesis ${expectedGenesis}`,
    )
  }
}

/** Records are missing or disagree with each other; `height` is where, when known. */
export class StoreCorruptError extends ChainStoreError {
  constructor(
    readonly problem: string,
    readonly height?: number,
  ) {
    super(
      'STORE_CORRUPT',
      height === undefined
        ? `store is damaged: ${problem}`
        : `store is damaged at height ${height}: ${problem}`,
    )
  }
}

/** An appended block does not extend the head (wrong link, height, timestamp or round). */
export class NotOnHeadError extends ChainStoreError {
  constructor(problem: string) {
    super('NOT_ON_HEAD', `block does not extend the head: ${problem}`)
  }
}

export class InvalidReorgError extends ChainStoreError {
  constructor(problem: string) {
    super('INVALID_REORG', `reorg refused: ${problem}`)
  }
}

export class StoreClosedError extends ChainStoreError {
  constructor() {
    super('STORE_CLOSED', 'chain store is closed')
  }
}
