// Option parsing shared by the commands (unknown options are usage errors),
// and where a config's admin API is.

import { type ParseArgsConfig, parseArgs } from 'node:util'
import { CutoverError } from '../common/cutover-error.ts'
import type { Config } from '../proxy/config/config.ts'

export function options<T extends NonNullable<ParseArgsConfig['options']>>(
  args: string[],
  spec: T,
) {
  try {
    return parseArgs({ args, options: spec, allowPositionals: true, strict: true })
  } catch (err) {
    throw new CutoverError('USAGE', (err as Error).message)
  }
}

/** The --config value, else $CUTOVER_CONFIG; undefined without either. */
export function configFileOf(value: string | boolean | undefined): string | undefined {
  if (typeof value === 'string' && value !== '') return value
  return process.env.CUTOVER_CONFIG || undefined
}

/** The --config value (or $CUTOVER_CONFIG), or a usage error saying the option is needed. */
export function requireConfig(value: string | boolean | undefined, command: string): string {
  const file = configFileOf(value)
  if (file === undefined) {
    throw new CutoverError(
      'USAGE',
      `'cutover ${command}' needs --config FILE (or CUTOVER_CONFIG; a YAML file, see examples/quickstart.yaml)`,
    )
  }
  return file
}

/** The base URL of the admin API a config names. */
export function adminUrl(config: Pick<Config, 'admin'>): string {
  const { host, port } = config.admin.listen
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}
