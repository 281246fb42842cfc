// The one base of the errors mirrorseed throws on purpose, shared by every area: it depends on
// nothing, so any area may extend it without importing another.

/**
 * An error a boundary throws on purpose: `code` is a stable kebab-case word (`bad-path`,
 * `not-found`) that callers switch on and tests assert; `name` is the class's own, so a log line
 * says which boundary refused; `message` is one line for a person, naming what was wrong. Each
 * area extends it once (`MetainfoError`, `TrackerError`, …) with its own union of codes.
 *
 * @example
 * export class MirrorError extends MirrorseedError<'not-found' | 'exists' | 'bad-input'> {}
 * throw new MirrorError('not-found', 'no mirror named "ftp.example"')
 */
export class MirrorseedError<Code extends string = string> extends Error {
  readonly code: Code

  constructor(code: Code, message: string, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
  }
}
