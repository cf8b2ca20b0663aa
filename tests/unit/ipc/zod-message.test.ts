// A zod failure must reach the user as one line per field, never as zod's JSON dump of every
// issue (a NaN study outcome used to print 90 lines of it from `marsfm reconstruct`).
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { toWireError } from '@shared/ipc/errors'
import { formatIssues, readableMessage } from '@shared/ipc/zod-message'
import { RunConfig } from '@shared/ipc/schemas/runs'

const Outcome = z.object({ rows: z.array(z.object({ tile: z.string(), modelLoss: z.number(), rgbLoss: z.number(), psnr: z.number() })) })

function nanOutcome(): unknown {
  return { rows: Array.from({ length: 30 }, (_, i) => ({ tile: `t${i}`, modelLoss: NaN, rgbLoss: NaN, psnr: NaN })) }
}

describe('zod failures for people', () => {
  it('folds 90 NaN issues over 30 rows into three lines, one per field', () => {
    const r = Outcome.safeParse(nanOutcome())
    expect(r.success).toBe(false)
    const wire = toWireError(r.error)
    const lines = wire.message.split('\n')
    expect(lines[0]).toBe('invalid data:')
    expect(lines.slice(1)).toEqual([
      'rows[].modelLoss: expected number, received NaN (30 times)',
      'rows[].rgbLoss: expected number, received NaN (30 times)',
      'rows[].psnr: expected number, received NaN (30 times)'
    ])
    expect(wire.message).not.toMatch(/"code"|"path"|\[\s*{/)
    expect(wire.name).toBe('ValidationError')
    expect(wire.issues).toHaveLength(50) // the structured issues stay available, bounded
  })

  it('names the field for a run config, caps the lines, and leaves other errors alone', () => {
    const r = RunConfig.strict().safeParse({ name: '', task: 'x', steps: -1, batchSize: 0, extra_key: 1 })
    expect(r.success).toBe(false)
    const text = formatIssues(r.error!.issues)
    expect(text).toMatch(/^name: /m)
    expect(text).toMatch(/^steps: /m)
    expect(text).toMatch(/extra_key/)
    expect(text.split('\n').length).toBeLessThanOrEqual(9)
    expect(readableMessage(new Error('plain'))).toBe('plain')
    expect(toWireError(new Error('plain')).message).toBe('plain')
  })
})
