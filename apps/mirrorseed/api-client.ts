import { readAdminToken } from '../../lib/api/index.ts'
import { loadConfig } from '../../lib/config/index.ts'
import { CliError } from './errors.ts'

export interface ApiClientOptions {
  config?: string
  dataDir?: string
  url?: string
}

/** One API call; `T` is the JSON the endpoint answers with (its schema is in `lib/api`). */
export type ApiCall = <T>(method: string, route: string, body?: unknown) => Promise<T>

/**
 * Calls a running appliance's admin API with the admin token (`MIRRORSEED_ADMIN_TOKEN`, the
 * config file, or the token file `serve` wrote in the data folder). An error answer becomes a
 * one-line {@link CliError} with the API's own message.
 *
 * @example
 * const api = apiClient({ dataDir: './data' })
 * const { mirrors } = await api<{ mirrors: Mirror[] }>('GET', '/mirrors')
 */
export function apiClient(options: ApiClientOptions): ApiCall {
  const config = loadConfig({ file: options.config, overrides: { dataDir: options.dataDir } })
  const token = readAdminToken(config)
  if (!token) {
    throw new CliError(
      "no admin token: set MIRRORSEED_ADMIN_TOKEN, or --data-dir pointing at the appliance's data folder",
    )
  }
  const base = (options.url ?? `http://127.0.0.1:${config.httpPort}`).replace(/\/+$/, '')
  return async <T>(method: string, route: string, body?: unknown): Promise<T> => {
    let response: Response
    try {
      response = await fetch(`${base}/api${route}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
    } catch (err) {
      throw new CliError(
        `cannot reach the appliance at ${base}: ${(err as Error).cause ?? (err as Error).message}`,
        1,
      )
    }
    const json: unknown = await response.json().catch(() => ({}))
    // The API's 400 is the user's bad input (exit 2); anything else is a failure (exit 1).
    if (!response.ok) {
      const { error } = json as { error?: { message?: string } }
      throw new CliError(
        `${error?.message ?? response.statusText}`,
        response.status === 400 ? 2 : 1,
      )
    }
    return json as T
  }
}
