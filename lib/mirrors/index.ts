// Downstream mirrors as web seeds: the mirrors table, health checks that fetch real pieces, and
// the `url-list` of every published torrent kept to the healthy ones.
export { MirrorError, type MirrorErrorCode } from './errors.ts'
export {
  addMirror,
  getMirror,
  listMirrors,
  mirrorName,
  mirrorUrl,
  removeMirror,
  updateMirror,
  recordCheck,
  type MirrorChange,
} from './store.ts'
export { checkMirror, type MirrorCheck, type MirrorProblem } from './check.ts'
export { probesFor, mirrorPath, type Probe, type ProbePart, type ProbeSource } from './probe.ts'
export {
  checkMirrors,
  loadProbes,
  startMirrorChecks,
  type CheckOptions,
  type MirrorCheckResult,
} from './checks.ts'
export { refreshWebSeeds, withWebSeeds } from './url-list.ts'
