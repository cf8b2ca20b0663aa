// Main's log: printed to stderr, kept in a ring buffer, and streamed to the renderer.
import type { LogLine } from '@shared/ipc/schemas/system'

export class AppLog {
  private lines: LogLine[] = []
  private listeners = new Set<(line: LogLine) => void>()
  constructor(private readonly echo: boolean, private readonly capacity = 2000) {}

  write(level: LogLine['level'], source: string, message: string): void {
    const line: LogLine = { at: new Date().toISOString(), level, source, message }
    this.lines.push(line)
    if (this.lines.length > this.capacity) this.lines.splice(0, this.lines.length - this.capacity)
    if (this.echo && level !== 'debug') process.stderr.write(`${line.at} ${level.padEnd(5)} ${source}: ${message}\n`)
    for (const l of this.listeners) l(line)
  }

  recent(): LogLine[] {
    return [...this.lines]
  }

  onLine(listener: (line: LogLine) => void): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }
}
