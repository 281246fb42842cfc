import type { Context, Hono } from 'hono'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { z } from 'zod'
import { ApiError } from './errors.ts'

type Output<S> = S extends z.ZodType ? z.output<S> : undefined

/** What an endpoint is, seen from outside: what routing and the OpenAPI document read. */
interface Described {
  method: 'get' | 'post' | 'patch' | 'delete'
  /** OpenAPI form, `{name}` for a path parameter. */
  path: string
  summary: string
  params?: z.ZodType
  query?: z.ZodType
  /** A JSON body; an empty body is read as `{}`. */
  body?: z.ZodType
  /** What it answers, by status (401 and 400 are added for every endpoint by the document). */
  responses: Partial<Record<ContentfulStatusCode, { description: string; schema?: z.ZodType }>>
}

/**
 * One endpoint as it is written: its path, inputs and answers as data, so the same definition
 * routes the request, validates it, and writes the OpenAPI document (`openapi.ts`). Nothing
 * reaches `handler` that its schemas did not accept.
 */
export interface EndpointDefinition<
  P extends z.ZodType | undefined,
  Q extends z.ZodType | undefined,
  B extends z.ZodType | undefined,
> extends Described {
  params?: P
  query?: Q
  body?: B
  handler(
    input: { params: Output<P>; query: Output<Q>; body: Output<B> },
    c: Context,
  ): Response | Promise<Response>
}

/** An endpoint in the registry: its description, and `handle`, which validates then answers. */
export interface Endpoint extends Described {
  handle(c: Context): Promise<Response>
}

/**
 * Checks an endpoint's types where it is written; the registry holds it as an {@link Endpoint},
 * whose `handle` keeps those types inside.
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
>(definition: EndpointDefinition<P, Q, B>): Endpoint {
  const { handler, ...described } = definition
  return {
    ...described,
    async handle(c) {
      const params = parse(definition.params, c.req.param(), 'path')
      const query = parse(definition.query, c.req.query(), 'query')
      const body = parse(definition.body, definition.body && (await readBody(c)), 'body')
      return handler({ params, query, body }, c)
    },
  }
}

/** The schema's output for `value`; no schema, no input (`undefined`). */
function parse<S extends z.ZodType | undefined>(
  // `| undefined`: the key is optional where the endpoint is written, whatever `S` is.
  schema: S | undefined,
  value: unknown,
  where: string,
): Output<S> {
  // tsc cannot narrow `Output<S>` by testing `schema`; both branches are exactly it.
  if (!schema) return undefined as Output<S>
  const result = schema.safeParse(value)
  if (result.success) return result.data as Output<S>
  const issue = result.error.issues[0]
  const at = issue.path.length ? `${where}.${issue.path.join('.')}` : where
  throw new ApiError('bad-request', `${at}: ${issue.message}`)
}

async function readBody(c: Context): Promise<unknown> {
  const text = await c.req.text()
  if (!text.trim()) return {}
  try {
    return JSON.parse(text)
  } catch {
    throw new ApiError('bad-request', 'the body is not valid JSON')
  }
}

/** Adds the endpoints to `app`, each behind its own validation. */
export function mount(app: Hono, endpoints: readonly Endpoint[]): void {
  for (const e of endpoints) {
    const path = e.path.replace(/\{(\w+)\}/g, ':$1')
    app.on(e.method.toUpperCase(), path, (c) => e.handle(c))
  }
}
