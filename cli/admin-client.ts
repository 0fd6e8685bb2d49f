// The running proxy's admin API as the CLI reaches it: at --admin with the token
// from CUTOVER_ADMIN_TOKEN, or where the config says with its token file; each
// refusal or unreachable proxy a usage error that says what to do.

import { CutoverError } from '../common/cutover-error.ts'
import { readToken, tokenFileOf } from '../proxy/admin/token.ts'
import { type Config, loadConfig } from '../proxy/config/config.ts'
import { adminUrl, configFileOf } from './args.ts'

export interface Admin {
  /** The proxy's config: needed by `apply` (its percentages), and for the admin address and token without --admin. */
  config(): Config
  base: string
  token: () => string
}

/** An --admin URL as given: http(s), scheme, host and port only. */
function adminBase(at: string): string {
  let url: URL | undefined
  try {
    url = new URL(at)
  } catch {
    // said below
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/')
    throw new CutoverError(
      'USAGE',
      `--admin expects the admin API's URL like http://127.0.0.1:9090, got ${JSON.stringify(at)}`,
    )
  return url.origin
}

/**
 * The admin API: at --admin (its token from CUTOVER_ADMIN_TOKEN), else where
 * the config (--config, $CUTOVER_CONFIG, ./cutover.yaml) says, with its token file.
 */
export function adminOf(configFile: string | undefined, at: string | undefined): Admin {
  const file = configFileOf(configFile) ?? (at === undefined ? 'cutover.yaml' : undefined)
  let loaded: Config | undefined
  const config = () => {
    if (file === undefined)
      throw new CutoverError(
        'USAGE',
        "this needs the proxy's config too: pass --config FILE or set CUTOVER_CONFIG",
      )
    loaded ??= loadConfig(file)
    return loaded
  }
  return {
    config,
    base: at === undefined ? adminUrl(config()) : adminBase(at),
    token: () => {
      if (file !== undefined) return readToken(tokenFileOf(config()))
      const fromEnv = process.env.CUTOVER_ADMIN_TOKEN
      if (!fromEnv)
        throw new CutoverError(
          'USAGE',
          '--admin without --config needs the admin token in CUTOVER_ADMIN_TOKEN',
        )
      return fromEnv
    },
  }
}

/** One call to the admin API; a body goes with the token. */
export async function call(
  admin: Admin,
  method: string,
  path: string,
  body?: unknown,
): Promise<unknown> {
  let res: Response
  try {
    res = await fetch(`${admin.base}${path}`, {
      method,
      headers:
        body === undefined
          ? {}
          : { 'content-type': 'application/json', authorization: `Bearer ${admin.token()}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
  } catch (err) {
    // Most often no proxy runs with this config: a usage error, as for the other commands.
    throw new CutoverError(
      'USAGE',
      `cannot reach the admin API at ${admin.base} (${(err as Error).cause ?? (err as Error).message}); is the proxy running?`,
    )
  }
  const data = (await res.json()) as { error?: string }
  if (!res.ok) throw new CutoverError('USAGE', `${res.status}: ${data.error ?? 'request refused'}`)
  return data
}
