import { createRequire } from 'node:module'
import { z } from 'zod'
import { errorCodes } from './errors.ts'
import { endpoint, type Endpoint } from './route.ts'

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string }

export const errorJson = z.object({
  error: z.object({
    code: z.enum(Object.keys(errorCodes) as [string, ...string[]]),
    message: z.string(),
  }),
})

function jsonSchema(schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any' })
  return rest
}

/** Path and query parameters, one per key of the object schema. */
function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): unknown[] {
  if (!schema) return []
  // A piped object (`.transform` or `.pipe` on the whole query) keeps its shape in its input.
  const object = (schema instanceof z.ZodPipe ? schema.in : schema) as z.ZodObject
  const shape = object.shape ?? {}
  return Object.entries(shape).map(([name, field]) => {
    const s = field as z.ZodType
    const { description, ...fieldSchema } = jsonSchema(s, 'input')
    return {
      name,
      in: where,
      required: where === 'path' || !s.safeParse(undefined).success,
      ...(description ? { description } : {}),
      schema: fieldSchema,
    }
  })
}

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
})

/**
 * The OpenAPI 3.1 document of `endpoints`, written from the same definitions that route and
 * validate requests, so it cannot describe an API other than the one running.
 */
export function openApiDocument(endpoints: readonly Endpoint[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {}
  for (const e of endpoints) {
    const responses: Record<string, unknown> = {}
    for (const [status, r] of Object.entries(e.responses)) {
      if (!r) continue
      responses[status] = r.schema
        ? {
            description: r.description,
            content: { 'application/json': { schema: jsonSchema(r.schema, 'output') } },
          }
        : errorResponse(r.description)
    }
    if (e.params || e.query || e.body)
      responses['400'] ??= errorResponse('the request is not valid; the message names what')
    responses['401'] = { $ref: '#/components/responses/Unauthorized' }
    ;(paths[e.path] ??= {})[e.method] = {
      summary: e.summary,
      operationId: `${e.method}${e.path.replace(/\{(\w+)\}/g, 'By-$1').replace(/[^A-Za-z0-9]+(.)?/g, (_m, ch: string | undefined) => (ch ?? '').toUpperCase())}`,
      parameters: [...parameters(e.params, 'path'), ...parameters(e.query, 'query')],
      ...(e.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: jsonSchema(e.body, 'input') } },
            },
          }
        : {}),
      responses,
    }
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'mirrorseed admin API',
      version,
      description:
        'Torrents, mirrors, rescans and statistics of a mirrorseed appliance. Every request needs `Authorization: Bearer <token>`; errors are `{ "error": { "code", "message" } }`.',
    },
    servers: [{ url: '/api' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: jsonSchema(errorJson, 'output') },
      responses: { Unauthorized: errorResponse('no valid bearer token (nothing else is said)') },
    },
  }
}

/**
 * `GET /openapi.json`. Behind the token like the rest of `/api`: the design promises that a
 * request without the token learns nothing, and an admin who can use the API has the token.
 */
export function openApiEndpoint(document: () => Record<string, unknown>): Endpoint {
  return endpoint({
    method: 'get',
    path: '/openapi.json',
    summary: 'This document',
    responses: {
      200: { description: 'the OpenAPI 3.1 document', schema: z.record(z.string(), z.unknown()) },
    },
    handler: (_input, c) => c.json(document()),
  })
}
