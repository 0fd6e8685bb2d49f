// The record log a config names: the Redis stream a fleet shares, or the journal.

import type { DnsConfig } from '../config/config.ts'
import { journalLog } from './journal.ts'
import type { RecordLog } from './record-log.ts'
import { redisStreamLog } from './redis-stream.ts'

/** Which log a config names, for snapshots to record: `redis://host:port stream` or the journal's path. */
export function recordLogName(records: DnsConfig['records']): string {
  return records.redis ? `${records.redis.url} ${records.redis.stream}` : records.journal!
}

export function openRecordLog(records: DnsConfig['records']): RecordLog {
  return records.redis
    ? redisStreamLog(records.redis.url, records.redis.stream)
    : journalLog(records.journal!)
}
