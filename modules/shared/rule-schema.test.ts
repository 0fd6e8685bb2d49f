// Config validation messages: each names the key, what was expected and what was found.

import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { CutoverError } from '../../common/cutover-error.ts'
import { issueText } from '../../common/issue-text.ts'
import { parseRule } from './rule-schema.ts'

/** The issues of parsing `input` with `schema`, the way the config loader does. */
function issues(schema: z.ZodType, input: unknown): z.core.$ZodIssue[] {
  const r = schema.safeParse(input, { reportInput: true })
  expect(r.success).toBe(false)
  return r.error!.issues
}

describe('issueText', () => {
  it('lists unknown keys and where to check them', () => {
    const [issue] = issues(z.strictObject({ a: z.number() }), { a: 1, limt: 2, bust: 3 })
    expect(issueText(issue)).toBe(
      `unknown key(s) "limt", "bust"; check the spelling against README's configuration reference`,
    )
  })

  it('says a missing key is missing', () => {
    const [issue] = issues(z.strictObject({ rate: z.number() }), {})
    expect(issueText(issue)).toBe('expected number (missing)')
  })

  it('shows a value of the wrong type as JSON', () => {
    expect(issueText(issues(z.number(), '10')[0])).toBe('expected number, got "10"')
    expect(issueText(issues(z.boolean(), null)[0])).toBe('expected boolean, got null')
    expect(issueText(issues(z.array(z.string()), { a: 1 })[0])).toBe('expected array, got {"a":1}')
  })

  it("uses a check's own message otherwise", () => {
    const [issue] = issues(z.string().regex(/^a/, 'must start with a'), 'b')
    expect(issueText(issue)).toBe('must start with a')
    expect(issueText(issues(z.int().max(5), 6)[0])).toBe('Too big: expected number to be <=5')
  })
})

describe('parseRule', () => {
  const schema = z.strictObject({
    type: z.literal('demo'),
    rate: z.int().min(1),
    tags: z.array(z.string()).default([]),
    inner: z.strictObject({ on: z.boolean() }).optional(),
  })

  it('gives the parsed rule with defaults filled in', () => {
    expect(parseRule(schema, { type: 'demo', rate: 2 }, 'http.sites[0].rules[0]')).toEqual({
      type: 'demo',
      rate: 2,
      tags: [],
    })
  })

  it('throws CONFIG_INVALID naming the rule, the key and the expectation', () => {
    let err: unknown
    try {
      parseRule(schema, { type: 'demo', rate: 'x' }, 'http.sites[3].rules[1]')
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(CutoverError)
    expect((err as CutoverError).code).toBe('CUTOVER_ERR_CONFIG_INVALID')
    expect((err as CutoverError).source).toBe('config')
    expect((err as CutoverError).message).toBe(
      'invalid rule:\n  http.sites[3].rules[1].rate: expected number, got "x"',
    )
  })

  it('names nested keys and array items with dots', () => {
    expect(() =>
      parseRule(
        schema,
        { type: 'demo', rate: 1, tags: ['a', 7], inner: { on: 'yes' } },
        'http.sites[0].rules[2]',
      ),
    ).toThrow(
      'invalid rule:\n' +
        '  http.sites[0].rules[2].tags.1: expected string, got 7\n' +
        '  http.sites[0].rules[2].inner.on: expected boolean, got "yes"',
    )
  })

  it('names the rule itself for unknown keys', () => {
    expect(() => parseRule(schema, { type: 'demo', rate: 1, rat: 2 }, 'w')).toThrow(
      /^invalid rule:\n {2}w: unknown key\(s\) "rat"/,
    )
  })

  it('gives one line per problem', () => {
    expect(() => parseRule(schema, {}, 'w')).toThrow(
      /\n {2}w\.type: .*\n {2}w\.rate: expected number \(missing\)$/,
    )
  })
})
