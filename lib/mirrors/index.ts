// Downstream mirrors as web seeds: the `mirrors` table (owned here) and health checks that fetch
// real pieces. Publish keeps every torrent's `url-list` to the healthy ones.
export { MirrorError, type MirrorErrorCode } from './errors.ts'
export {
  addMirror,
  getMirror,
  listMirrors,
  removeMirror,
  updateMirror,
  recordCheck,
  healthyMirrors,
  enabledMirrors,
  mirrorsSignature,
  mirrorHealthCounts,
  type MirrorChange,
  type MirrorRow,
} from './store.ts'
export { checkMirror, type MirrorCheck, type MirrorProblem } from './check.ts'
export { probesFor, mirrorPath, type Probe, type ProbePart, type ProbeSource } from './probe.ts'
export {
  checkMirrors,
  loadProbes,
  startMirrorChecks,
  type CheckOptions,
  type MirrorCheckResult,
  type ProbeLayout,
} from './checks.ts'
