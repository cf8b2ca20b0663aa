// Main → renderer events. Sinks (Electron windows, WebSocket clients) subscribe; every payload is
// checked against the contract before it leaves, so the renderer can trust what it receives.
import { events, type EventName, type EventPayload } from '@shared/ipc/contract'

export type EventSink = (event: EventName, payload: unknown) => void

export class EventBus {
  private sinks = new Set<EventSink>()

  subscribe(sink: EventSink): () => void {
    this.sinks.add(sink)
    return () => this.sinks.delete(sink)
  }

  emit<E extends EventName>(event: E, payload: EventPayload<E>): void {
    const checked = events[event].parse(payload)
    for (const sink of this.sinks) {
      try {
        sink(event, checked)
      } catch {
        // A closed window or socket must not stop the others.
      }
    }
  }
}
