import { z } from 'zod'
import { ApiError } from './errors.ts'
import type { Jobs } from './jobs.ts'
import { endpoint, type Endpoint } from './route.ts'

const rescanBody = z.strictObject({
  /** A folder of the tree, relative to the root; the whole tree when absent. */
  path: z
    .string()
    .max(4096)
    .refine(
      (p) => !p.split('/').some((s) => s === '..') && !p.includes('\0'),
      'must stay inside the mirror root',
    )
    .optional()
    .describe('a folder of the tree, relative to the mirror root; the whole tree when absent'),
})

export const jobJson = z.object({
  id: z.string(),
  kind: z.string(),
  status: z.enum(['queued', 'running', 'done', 'failed']),
  createdAt: z.string(),
  finishedAt: z.string().nullable(),
  /** The reconcile summary once done. */
  result: z.unknown(),
  error: z.string().nullable(),
})

/** `POST /rescan` (202 and a job) and `GET /jobs/{id}`. */
export function rescanEndpoints(
  jobs: Jobs,
  rescan: (path?: string) => Promise<unknown>,
): Endpoint[] {
  return [
    endpoint({
      method: 'post',
      path: '/rescan',
      summary: 'Reconcile the tree, or one folder of it, in the background',
      body: rescanBody,
      responses: {
        202: {
          description: 'accepted; poll the job',
          schema: z.object({ job: jobJson.pick({ id: true, status: true }) }),
        },
      },
      handler: ({ body }, c) => {
        const path = body.path?.replace(/^\/+|\/+$/g, '') || undefined
        const job = jobs.start('rescan', () => rescan(path))
        return c.json({ job: { id: job.id, status: job.status } }, 202)
      },
    }),
    endpoint({
      method: 'get',
      path: '/jobs/{id}',
      summary: 'A job the API accepted, with its result once done',
      params: z.object({ id: z.string().max(64) }),
      responses: {
        200: { description: 'the job', schema: z.object({ job: jobJson }) },
        404: { description: 'no such job (or it is too old to be kept)' },
      },
      handler: ({ params }, c) => {
        const job = jobs.get(params.id)
        if (!job) throw new ApiError('not-found', 'no such job')
        return c.json({ job })
      },
    }),
  ]
}
