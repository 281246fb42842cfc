import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { chromium, type Browser } from 'playwright-core'
import { ready, startServe, type RunningServe } from './cli.ts'
import { treeArgs, buildGentooTree, type FixtureTree } from './fixtures/mirror-tree.ts'
import { aria2c } from './aria2c.ts'
import { tool } from './tools.ts'

// Debian's chromium, driven by playwright-core: no browser download, the one users have.
const chromiumBin = '/usr/bin/chromium'
const browserTool = tool(chromiumBin)
const aria2cTool = tool('aria2c')

describe.skipIf(!browserTool.found)(
  `the index page in a real browser ${browserTool.reason}`,
  () => {
    let tree: FixtureTree
    let dataDir: string
    let serve: RunningServe
    let browser: Browser

    beforeAll(async () => {
      tree = await buildGentooTree()
      dataDir = mkdtempSync(path.join(tmpdir(), 'mirrorseed-web-'))
      serve = await startServe([...treeArgs(tree), '--data-dir', dataDir])
      await ready(serve)
      browser = await chromium.launch({
        executablePath: chromiumBin,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      })
    }, 120_000)

    afterAll(async () => {
      await browser?.close()
      await serve?.stop('SIGKILL')
      await tree?.remove()
      if (dataDir) rmSync(dataDir, { recursive: true, force: true })
    })

    it('shows each release with its torrents, sizes and swarm counts', async () => {
      const page = await browser.newPage({ javaScriptEnabled: false })
      const res = await page.goto(`${serve.url}/`)
      expect(res?.status()).toBe(200)
      const releaseDir = tree.releases[0]!.releaseDir
      // The folder, and the layout profile that published it (auto-detected: Gentoo).
      await expect(page.locator('h2').first().innerText()).resolves.toBe(`${releaseDir} · gentoo`)
      const names = await page.locator(`section[data-release="${releaseDir}"] h3`).allInnerTexts()
      expect(names.sort()).toEqual(tree.releases.map((r) => r.name).sort())
      for (const release of tree.releases) {
        const card = page.locator('li.torrent', { hasText: release.name })
        const text = await card.innerText()
        // Our own seeder is in every swarm it serves: one seed, no other peer yet.
        expect(text).toMatch(/Seeds\s+1\b/)
        expect(text).toMatch(/Peers\s+0\b/)
        // The artifact and its four companions.
        expect(text).toMatch(/Files\s+5\b/)
        expect(text).toMatch(/Size\s+\d+(\.\d)? KiB/)
      }
      await expect(page.getByText('No mirrors are configured').count()).resolves.toBe(1)
      await page.close()
    })

    it('has .torrent links that download the published file', async () => {
      const page = await browser.newPage()
      await page.goto(`${serve.url}/`)
      for (const release of tree.releases) {
        const link = page
          .locator('li.torrent', { hasText: release.name })
          .getByRole('link', { name: '.torrent' })
        const href = await link.getAttribute('href')
        const download = await page.request.get(new URL(href!, serve.url).toString())
        expect(download.status()).toBe(200)
        expect(download.headers()['content-type']).toBe('application/x-bittorrent')
        const onDisk = readFileSync(
          path.join(tree.root, 'torrents', release.releaseDir, `${release.name}.torrent`),
        )
        expect(Buffer.from(await download.body()).equals(onDisk)).toBe(true)
      }
      await page.close()
    })

    it.skipIf(!aria2cTool.found)(
      `has magnet links a client resolves from the appliance ${aria2cTool.reason}`,
      async () => {
        const page = await browser.newPage()
        await page.goto(`${serve.url}/`)
        const release = tree.releases[0]!
        const magnet = await page
          .locator('li.torrent', { hasText: release.name })
          .getByRole('link', { name: 'magnet' })
          .getAttribute('href')
        await page.close()
        expect(magnet).toMatch(/^magnet:\?xt=urn:btih:[0-9a-f]{40}&/)
        // aria2c fetches the metadata through our tracker and seeder (ut_metadata, BEP 9) and
        // saves it: the same info as the published .torrent.
        const out = mkdtempSync(path.join(tmpdir(), 'mirrorseed-magnet-'))
        try {
          const run = await aria2c(
            magnet!,
            out,
            ['--bt-metadata-only=true', '--bt-save-metadata=true'],
            60_000,
          )
          expect(run.code, run.output).toBe(0)
          const infoHash = /btih:([0-9a-f]{40})/.exec(magnet!)![1]!
          const saved = readFileSync(path.join(out, `${infoHash}.torrent`))
          const published = readFileSync(
            path.join(tree.root, 'torrents', release.releaseDir, `${release.name}.torrent`),
          )
          // The info dictionary, byte for byte, is inside both files.
          const info = saved.subarray(saved.indexOf('4:info') + 6, -1)
          expect(published.includes(info)).toBe(true)
        } finally {
          rmSync(out, { recursive: true, force: true })
        }
      },
      90_000,
    )

    it('fits a phone screen without horizontal scrolling', async () => {
      const context = await browser.newContext({
        viewport: { width: 360, height: 740 },
        deviceScaleFactor: 2,
        isMobile: true,
        hasTouch: true,
      })
      const page = await context.newPage()
      await page.goto(`${serve.url}/`)
      // A string, evaluated in the page: this project's types have no DOM library.
      const widths = (await page.evaluate(
        '({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })',
      )) as { scroll: number; client: number }
      expect(widths.client).toBe(360)
      expect(widths.scroll).toBeLessThanOrEqual(widths.client)
      // The long artifact names wrap inside their cards rather than running off the screen.
      for (const box of await page
        .locator('li.torrent')
        .evaluateAll((els) => els.map((e) => e.getBoundingClientRect().right)))
        expect(box).toBeLessThanOrEqual(360)
      await context.close()
    })
  },
)
