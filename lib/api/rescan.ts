import { Hono } from 'hono'
import { z } from 'zod'
import { ApiError } from './errors.ts'
import type { Jobs } from './jobs.ts'

const rescanBody = z.strictObject({
  /** A folder of the tree, relative to the root; the whole tree when absent. */
  path: z
    .string()
    .max(4096)
    .refine(
      (p) => !p.split('/').some((s) => s === '..') && !p.includes('\0'),
      'must stay inside the mirror root',
    )
    .optional(),
})

/** `POST /rescan` (202 and a job) and `GET /jobs/:id`. */
export function rescanRoutes(jobs: Jobs, rescan: (path?: string) => Promise<unknown>): Hono {
  return new Hono()
    .post('/rescan', async (c) => {
      const text = await c.req.text()
      let json: unknown = {}
      if (text.trim()) {
        try {
          json = JSON.parse(text)
        } catch {
          throw new ApiError('bad_request', 'the body is not valid JSON')
        }
      }
      const body = rescanBody.safeParse(json)
      if (!body.success) {
        const issue = body.error.issues[0]
        throw new ApiError('bad_request', `${issue.path.join('.') || 'body'}: ${issue.message}`)
      }
      const path = body.data.path?.replace(/^\/+|\/+$/g, '') || undefined
      const job = jobs.start('rescan', () => rescan(path))
      return c.json({ job: { id: job.id, status: job.status } }, 202)
    })
    .get('/jobs/:id', (c) => {
      const job = jobs.get(c.req.param('id'))
      if (!job) throw new ApiError('not_found', 'no such job')
      return c.json({ job })
    })
}
