/** Why a scan or a digest check could not go on; the message names the path or file at fault. */
export type ReleaseErrorCode = 'BAD_ROOT' | 'BAD_PATH' | 'BAD_PROFILE' | 'BAD_DIGEST_FILE'

export class ReleaseError extends Error {
  readonly code: ReleaseErrorCode

  constructor(code: ReleaseErrorCode, message: string) {
    super(message)
    this.name = 'ReleaseError'
    this.code = code
  }
}
