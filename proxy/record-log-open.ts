// The record log a config names: the Redis stream a fleet shares, or the journal.

import type { DnsConfig } from './config.ts'
import { journalLog } from './record-journal.ts'
import type { RecordLog } from './record-log.ts'
import { redisStreamLog } from './record-stream.ts'

export function openRecordLog(records: DnsConfig['records']): RecordLog {
  return records.redis
    ? redisStreamLog(records.redis.url, records.redis.stream)
    : journalLog(records.journal!)
}
