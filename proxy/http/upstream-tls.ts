// What undici is given to reach an https:// upstream, read from the config:
// the CA and client certificate files loaded once, verification on unless the
// config wrote `insecure: true`.

import { readFileSync } from 'node:fs'
import { CutoverError } from '../../common/cutover-error.ts'
import type { UpstreamTlsOptions } from '../../legacy-adapter/http-upstream.ts'
import type { UpstreamTls } from '../config/tls-settings.ts'

/** The TLS options of the upstream at config key `key`; throws CONFIG_INVALID naming a file it cannot read. */
export function upstreamTlsOptions(tls: UpstreamTls | undefined, key: string): UpstreamTlsOptions {
  const read = (file: string | undefined, field: string): string | undefined => {
    if (file === undefined) return undefined
    try {
      return readFileSync(file, 'utf8')
    } catch (err) {
      throw new CutoverError(
        'CONFIG_INVALID',
        `${key}.tls.${field}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      )
    }
  }
  return {
    servername: tls?.servername,
    ca: read(tls?.ca, 'ca'),
    rejectUnauthorized: tls?.insecure !== true,
    cert: read(tls?.cert, 'cert'),
    key: read(tls?.key, 'key'),
  }
}
