// What a ratelimit rule counts by: the client address, the path, or a request
// header's value. Compiled once per rule into a function of the request.

import { hash } from 'node:crypto'
import { z } from 'zod'
import { headerGet } from '../../common/header-list.ts'
import type { HttpRequest } from '../http-module.ts'

// RFC 9110 5.1: a field name is a token.
const HEADER_KEY = /^header:[!#$%&'*+.^_`|~0-9A-Za-z-]+$/

export const keySchema = z
  .string()
  .refine((k) => k === 'client-ip' || k === 'path' || HEADER_KEY.test(k), {
    error: (issue) =>
      `expected "client-ip", "path" or "header:<Name>", got ${JSON.stringify(issue.input)}`,
  })

/** Longer values are stored as their hash, so a bucket costs at most this many characters. */
const MAX_KEY_LENGTH = 64

function bounded(value: string): string {
  return value.length <= MAX_KEY_LENGTH ? value : hash('sha256', value, 'base64')
}

/** The bucket key of a request, or undefined when it has none (the header is absent or empty). */
export function compileKey(key: string): (request: HttpRequest) => string | undefined {
  if (key === 'client-ip') return (request) => request.clientIp
  if (key === 'path') return (request) => bounded(request.path)
  const name = key.slice('header:'.length).toLowerCase()
  return (request) => {
    const value = headerGet(request.headers, name)
    return value ? bounded(value) : undefined
  }
}
