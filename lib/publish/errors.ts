import { MirrorseedError } from '../errors/index.ts'

/** Why something could not be published: `outside-output`, a path that would leave an output folder. */
export type PublishErrorCode = 'outside-output'

/** The one error of the publish boundary; the message names the path at fault. */
export class PublishError extends MirrorseedError<PublishErrorCode> {}
