/**
 * Watching the mirror tree: directory events, rsync- and ftpsync-aware, debounced into dirty
 * directories for the scanner, with a periodic full reconcile under it.
 */
export {
  watchMirror,
  watchTimings,
  WatchError,
  type WatchOptions,
  type MirrorWatcher,
  type DirtyContext,
  type DirtyReason,
} from './watcher.ts'
export { updateInProgress, updateInProgressPrefix } from './stability.ts'
