import { Command } from 'commander'
import { apiClient, type ApiClientOptions } from '../api-client.ts'

type Options = ApiClientOptions & { json?: boolean }

interface Mirror {
  name: string
  baseUrl: string
  enabled: boolean
  status: string
  latencyMs: number | null
  lastError: string | null
  lastCheckAt: string | null
}

/** What `POST /mirrors/{name}/check` answers (the fields read here). */
interface Checked {
  mirror: Mirror
  check: { status: string }
}

function line(m: Mirror): string {
  const health = m.status === 'up' ? `up ${m.latencyMs} ms` : m.status
  const why = m.status === 'down' && m.lastError ? `  (${m.lastError})` : ''
  return `${m.name.padEnd(20)} ${(m.enabled ? health : `disabled, ${health}`).padEnd(18)} ${m.baseUrl}${why}`
}

/**
 * `mirrorseed mirrors list|add|remove|check`. It talks to the running appliance's API, like
 * `rescan`, not to the database: with the embedded database the appliance holds its lock, and
 * the appliance is what rewrites the torrents' `url-list` when a mirror comes or goes.
 */
export function register(program: Command): void {
  const mirrors = program
    .command('mirrors')
    .description('manage the mirrors whose copies of the tree are web seeds')
  const common = (command: Command) =>
    command
      .option('--config <file>', 'configuration file')
      .option('--data-dir <dir>', 'data folder (where serve keeps the admin token)')
      .option('--url <url>', 'the appliance (default: http://127.0.0.1:<httpPort>)')
      .option('--json', 'print JSON')

  common(mirrors.command('list').description('every mirror with its health')).action(
    async (options: Options) => {
      const { mirrors: list } = await apiClient(options)<{ mirrors: Mirror[] }>('GET', '/mirrors')
      if (options.json) console.log(JSON.stringify(list, null, 2))
      else if (list.length === 0) console.log('no mirrors')
      else for (const m of list) console.log(line(m))
    },
  )

  common(
    mirrors
      .command('add')
      .description('add a mirror; it is a web seed once a check sees it serve the right bytes')
      .argument('<name>', 'a short name: letters, digits, ".", "_", "-"')
      .argument('<url>', 'where the mirror carries the tree, e.g. https://mirror.example/gentoo')
      .option('--disabled', 'add it disabled')
      .option('--check', 'check it right away'),
  ).action(
    async (
      name: string,
      url: string,
      options: Options & { disabled?: boolean; check?: boolean },
    ) => {
      const api = apiClient(options)
      let { mirror } = await api<{ mirror: Mirror }>('POST', '/mirrors', {
        name,
        baseUrl: url,
        enabled: !options.disabled,
      })
      let check: Checked['check'] | undefined
      if (options.check)
        ({ check, mirror } = await api<Checked>(
          'POST',
          `/mirrors/${encodeURIComponent(name)}/check`,
        ))
      if (options.json) console.log(JSON.stringify(check ? { mirror, check } : { mirror }, null, 2))
      else console.log(line(mirror))
      if (check?.status === 'down') process.exitCode = 1
    },
  )

  common(
    mirrors
      .command('remove')
      .description('remove a mirror; it leaves every url-list')
      .argument('<name>'),
  ).action(async (name: string, options: Options) => {
    const result = await apiClient(options)('DELETE', `/mirrors/${encodeURIComponent(name)}`)
    if (options.json) console.log(JSON.stringify(result))
    else console.log(`removed ${name}`)
  })

  common(
    mirrors
      .command('check')
      .description('check one mirror, or every enabled one, now; exit 1 if one is down')
      .argument('[name]'),
  ).action(async (name: string | undefined, options: Options) => {
    const api = apiClient(options)
    const names = name
      ? [name]
      : (await api<{ mirrors: Mirror[] }>('GET', '/mirrors')).mirrors
          .filter((m) => m.enabled)
          .map((m) => m.name)
    const results = []
    for (const n of names) {
      const { check, mirror } = await api<Checked>(
        'POST',
        `/mirrors/${encodeURIComponent(n)}/check`,
      )
      results.push({ name: n, ...check })
      if (!options.json) console.log(line(mirror))
    }
    if (options.json) console.log(JSON.stringify(results, null, 2))
    else if (names.length === 0) console.log('no enabled mirrors')
    if (results.some((r) => r.status !== 'up')) process.exitCode = 1
  })
}
