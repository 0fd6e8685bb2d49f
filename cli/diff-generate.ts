// `cutover diff generate`: writes a suite from a zone file (DNS) or from a
// site's rules in a config (HTTP), as YAML, to --out or stdout.

import { writeFileSync } from 'node:fs'
import { stringify } from 'yaml'
import { CutoverError } from '../common/cutover-error.ts'
import { generateDnsCases } from '../flamingo-tests/generate-dns.ts'
import { generateHttpCases } from '../flamingo-tests/generate-http.ts'
import { loadConfig } from '../proxy/config/config.ts'
import { options } from './args.ts'

export async function generateCommand(args: string[]): Promise<number> {
  const { values } = options(args, {
    zone: { type: 'string' },
    origin: { type: 'string' },
    config: { type: 'string', short: 'c' },
    site: { type: 'string' },
    out: { type: 'string', short: 'o' },
  })
  let suite: object
  if (values.zone) {
    if (!values.origin)
      throw new CutoverError(
        'USAGE',
        "'cutover diff generate --zone FILE' needs --origin (the zone's name, like example.com)",
      )
    suite = { kind: 'dns', cases: generateDnsCases(values.origin, values.zone) }
  } else if (values.config && values.site) {
    const site = loadConfig(values.config).http?.sites.find((s) => s.host === values.site)
    if (!site) throw new CutoverError('USAGE', `no site '${values.site}' in ${values.config}`)
    suite = { kind: 'http', cases: generateHttpCases(site.host, site.rules) }
  } else {
    throw new CutoverError(
      'USAGE',
      "'cutover diff generate' needs --zone FILE --origin NAME, or --config FILE --site HOST",
    )
  }
  const text = stringify(suite)
  if (values.out) writeFileSync(values.out, text)
  else process.stdout.write(text)
  return 0
}
