import type { Context, Hono } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { z } from 'zod'
import { ApiError } from './errors.ts'

type Output<S> = S extends z.ZodType ? z.output<S> : undefined

/**
 * One endpoint: its path, inputs and answers as data, so the same definition routes the request,
 * validates it, and writes the OpenAPI document (`openapi.ts`). Nothing reaches `handler` that
 * its schemas did not accept.
 */
export interface Endpoint<
  P extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  B extends z.ZodType | undefined = z.ZodType | undefined,
> {
  method: 'get' | 'post' | 'patch' | 'delete'
  /** OpenAPI form, `{name}` for a path parameter. */
  path: string
  summary: string
  params?: P
  query?: Q
  /** A JSON body; an empty body is read as `{}`. */
  body?: B
  /** What it answers, by status (401 and 400 are added for every endpoint by the document). */
  responses: Partial<Record<ContentfulStatusCode, { description: string; schema?: z.ZodType }>>
  handler(
    input: { params: Output<P>; query: Output<Q>; body: Output<B> },
    c: Context,
  ): Response | Promise<Response>
}

/**
 * Checks an endpoint's types where it is written; the registry keeps them erased.
 *
 * @example
 * export const getMirror = endpoint({
 *   method: 'get', path: '/mirrors/{name}', summary: 'One mirror',
 *   params: z.object({ name: mirrorName }),
 *   responses: { 200: { description: 'the mirror', schema: mirrorJson } },
 *   handler: async ({ params }, c) => c.json(await find(params.name)),
 * })
 */
export function endpoint<
  P extends z.ZodType | undefined = undefined,
  Q extends z.ZodType | undefined = undefined,
  B extends z.ZodType | undefined = undefined,
>(definition: Endpoint<P, Q, B>): Endpoint {
  return definition as unknown as Endpoint
}

function parse(schema: z.ZodType, value: unknown, where: string): unknown {
  const result = schema.safeParse(value)
  if (result.success) return result.data
  const issue = result.error.issues[0]
  const at = issue.path.length ? `${where}.${issue.path.join('.')}` : where
  throw new ApiError('bad_request', `${at}: ${issue.message}`)
}

async function readBody(c: Context): Promise<unknown> {
  const text = await c.req.text()
  if (!text.trim()) return {}
  try {
    return JSON.parse(text)
  } catch {
    throw new ApiError('bad_request', 'the body is not valid JSON')
  }
}

/** Adds the endpoints to `app`, each behind its own validation. */
export function mount(app: Hono, endpoints: readonly Endpoint[]): void {
  for (const e of endpoints) {
    const path = e.path.replace(/\{(\w+)\}/g, ':$1')
    app.on(e.method.toUpperCase(), path, async (c) => {
      const input = {
        params: e.params ? parse(e.params, c.req.param(), 'path') : undefined,
        query: e.query ? parse(e.query, c.req.query(), 'query') : undefined,
        body: e.body ? parse(e.body, await readBody(c), 'body') : undefined,
      }
      return e.handler(input as never, c)
    })
  }
}
