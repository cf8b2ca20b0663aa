// The single place where calls enter main. Both the Electron IPC wrapper and the web-mode
// WebSocket bridge hand raw payloads here: the request is parsed with the channel's schema,
// the handler runs, and an envelope (value or error) goes back. Nothing a page sends can crash main.
import type { z } from 'zod'
import { channels, isChannel, type Channel, type Envelope, type ParsedRequestOf, type ResponseOf } from '@shared/ipc/contract'
import { ValidationError, toWireError } from '@shared/ipc/errors'

const MAX_ISSUES = 8

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text
}

export type Handler<C extends Channel> = (request: ParsedRequestOf<C>) => Promise<ResponseOf<C>> | ResponseOf<C>

export class Router {
  private handlers = new Map<Channel, Handler<Channel>>()

  handle<C extends Channel>(channel: C, handler: Handler<C>): void {
    if (this.handlers.has(channel)) throw new Error(`a handler for ${channel} is registered twice`)
    this.handlers.set(channel, handler as unknown as Handler<Channel>)
  }

  /** Channels declared in the contract that have no handler yet (checked at start-up). */
  missing(): Channel[] {
    return (Object.keys(channels) as Channel[]).filter((c) => !this.handlers.has(c))
  }

  async dispatch(channel: unknown, payload: unknown): Promise<Envelope<unknown>> {
    try {
      if (!isChannel(channel)) {
        // The name is the caller's text: quoted short, so a megabyte "channel" is not echoed back.
        throw new ValidationError(`unknown channel ${typeof channel === 'string' ? JSON.stringify(clip(channel, 80)) : `(a ${channel === null ? 'null' : typeof channel})`}`, [
          { path: 'channel', message: 'not in the contract' }
        ])
      }
      const handler = this.handlers.get(channel)
      if (!handler) throw new Error(`no handler for ${channel}`)
      const schema = channels[channel].request as z.ZodType
      const parsed = schema.safeParse(payload ?? {})
      if (!parsed.success) {
        // At most MAX_ISSUES issues, each clipped: a 50,000-item array of wrong values (or a key
        // of a megabyte) still gets a one-sentence error naming the fields.
        const all = parsed.error.issues
        const issues = all.slice(0, MAX_ISSUES).map((i) => ({ path: clip(i.path.map(String).join('.'), 120) || '(payload)', message: clip(i.message, 160) }))
        const more = all.length > MAX_ISSUES ? `; and ${all.length - MAX_ISSUES} more` : ''
        throw new ValidationError(`invalid payload for ${channel}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}${more}`, issues)
      }
      const value = await handler(parsed.data as never)
      return { ok: true, value }
    } catch (err) {
      const wire = toWireError(err)
      delete wire.stack // stacks stay in main's log, not in the page
      return { ok: false, error: wire }
    }
  }
}
