// Errors cross process boundaries (engine → main → renderer) as plain objects and are rebuilt
// on the other side, so a failure keeps its name, message and (where useful) validation issues.
import { formatIssues, isZodLike } from './zod-message'

export interface WireError {
  name: string
  message: string
  stack?: string
  code?: string
  issues?: { path: string; message: string }[]
}

export function toWireError(err: unknown): WireError {
  if (err instanceof Error) {
    const e = err as Error & { code?: unknown; issues?: unknown }
    // A zod failure's message is a JSON dump of every issue: send one line per field instead.
    if (isZodLike(e)) {
      const issues = e.issues.map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }))
      return { name: 'ValidationError', message: `invalid data:\n${formatIssues(e.issues)}`, stack: e.stack, issues: issues.slice(0, 50) }
    }
    const wire: WireError = { name: e.name || 'Error', message: e.message, stack: e.stack }
    if (typeof e.code === 'string') wire.code = e.code
    if (Array.isArray(e.issues)) wire.issues = e.issues as WireError['issues']
    return wire
  }
  return { name: 'Error', message: String(err) }
}

/** An error rebuilt from its wire form; `name` is the original error's class name. */
export class RemoteError extends Error {
  readonly code?: string
  readonly issues?: WireError['issues']
  constructor(wire: WireError) {
    super(wire.message)
    this.name = wire.name
    this.code = wire.code
    this.issues = wire.issues
    if (wire.stack) this.stack = wire.stack
  }
}

/** A payload that does not match the contract. Never crashes the receiver. */
export class ValidationError extends Error {
  readonly issues: { path: string; message: string }[]
  constructor(message: string, issues: { path: string; message: string }[]) {
    super(message)
    this.name = 'ValidationError'
    this.issues = issues
  }
}

/** The user stopped the work. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message)
    this.name = 'CancelledError'
  }
}
