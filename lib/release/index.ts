/**
 * Releases on the mirror: which files make a torrent (profiles and the scanner) and what their
 * digest files say they must hash to (parsing and verification). No torrent building here.
 */
export { ReleaseError, type ReleaseErrorCode } from './errors.ts'
export {
  builtinProfiles,
  resolveProfile,
  type ReleaseProfile,
  type ProfileOverrides,
  type FolderView,
} from './profile.ts'
export {
  ProfileSelector,
  detectLayout,
  type ChoiceReason,
  type ProfileChoice,
  type SelectorOptions,
} from './detect.ts'
export {
  scanReleases,
  scanDirectory,
  defaultOutputDirs,
  type FileRef,
  type Release,
  type IgnoredFile,
  type IgnoredReason,
  type ScanOptions,
  type ScanResult,
  type ScanProblem,
} from './scan.ts'
export {
  parseDigests,
  digestFileKind,
  digestAlgorithms,
  type DigestAlgorithm,
  type DigestLine,
} from './digests.ts'
export {
  expectedDigests,
  readExpectedDigests,
  digestFilesOf,
  preferredAlgorithm,
  checkDigests,
  computeDigests,
  type Digests,
  type ListedDigest,
  type ExpectedDigests,
  type DigestFailure,
  type Verification,
} from './verify.ts'
export { globToRegExp } from './glob.ts'
export { verifySignatures, type SignatureCheck, type SignatureVerification } from './signature.ts'
