// Option parsing shared by the commands: unknown options are usage errors.

import { type ParseArgsConfig, parseArgs } from 'node:util'
import { CutoverError } from '../common/cutover-error.ts'

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

/** The --config value, or a usage error saying the option is needed. */
export function requireConfig(value: string | boolean | undefined, command: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new CutoverError(
      'USAGE',
      `'cutover ${command}' needs --config FILE (a YAML file; see examples/quickstart.yaml)`,
    )
  }
  return value
}
