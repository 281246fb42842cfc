import { describe, expect, it } from 'vitest'
import { Snapshot } from './snapshot.ts'

describe('Snapshot', () => {
  it('renders once for concurrent and recent requests, again once it is old', async () => {
    let clock = 0
    let renders = 0
    const page = new Snapshot(
      1000,
      async () => `page ${++renders}`,
      () => clock,
    )
    expect(await Promise.all([page.get(), page.get(), page.get()])).toEqual([
      'page 1',
      'page 1',
      'page 1',
    ])
    clock = 999
    expect(await page.get()).toBe('page 1')
    clock = 1000
    expect(await page.get()).toBe('page 2')
  })

  it('does not keep a failed render', async () => {
    let fail = true
    const page = new Snapshot(60_000, async () => {
      if (fail) throw new Error('database down')
      return 'ok'
    })
    await expect(page.get()).rejects.toThrow('database down')
    fail = false
    expect(await page.get()).toBe('ok')
  })
})
