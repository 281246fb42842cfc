import { randomUUID } from 'node:crypto'

export interface Job<T = unknown> {
  id: string
  kind: string
  status: 'queued' | 'running' | 'done' | 'failed'
  createdAt: string
  finishedAt: string | null
  result: T | null
  error: string | null
}

/**
 * Work the API accepted with 202 and runs in the background, one job at a time in order of
 * arrival; the last `keep` jobs stay readable at `GET /api/jobs/:id`.
 */
export class Jobs {
  private readonly jobs = new Map<string, Job>()
  private queue: Promise<void> = Promise.resolve()

  constructor(private readonly keep = 200) {}

  start<T>(kind: string, work: () => Promise<T>): Job<T> {
    const job: Job<T> = {
      id: randomUUID(),
      kind,
      status: 'queued',
      createdAt: new Date().toISOString(),
      finishedAt: null,
      result: null,
      error: null,
    }
    this.jobs.set(job.id, job)
    for (const id of this.jobs.keys()) {
      if (this.jobs.size <= this.keep) break
      this.jobs.delete(id)
    }
    this.queue = this.queue.then(async () => {
      job.status = 'running'
      try {
        job.result = await work()
        job.status = 'done'
      } catch (err) {
        job.error = (err as Error).message
        job.status = 'failed'
      }
      job.finishedAt = new Date().toISOString()
    })
    return job
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id)
  }

  /** Resolves when everything queued so far has finished (shutdown). */
  idle(): Promise<void> {
    return this.queue
  }
}
