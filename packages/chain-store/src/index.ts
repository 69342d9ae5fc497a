export {
  type ChainDatabase,
  ChainStore,
  type HeadChange,
  type HeadListener,
  type KeyValueSpace,
  type OpenChainStoreOptions,
} from './chain-store.js'
export {
  ChainStoreError,
  type ChainStoreErrorCode,
  GenesisMismatchError,
  InvalidReorgError,
  NotOnHeadError,
  StoreClosedError,
  StoreCorruptError,
} from './errors.js'
export type { VerifyReport } from './verify.js'

import { ChainStore, type OpenChainStoreOptions } from './chain-store.js'

/** Opens (or creates) a chain store: `openChainStore({genesis, location: dir})`. */
export function openChainStore(options: OpenChainStoreOptions): Promise<ChainStore> {
  return ChainStore.open(options)
}
