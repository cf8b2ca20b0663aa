// Peak resident memory of this process. On Linux a child inherits its parent's high-water mark
// across fork+exec, so benchmarks reset it first (writing 5 to /proc/self/clear_refs) and then
// read VmHWM; elsewhere they fall back to getrusage's maxRSS.
import { readFileSync, writeFileSync } from 'node:fs'

export function resetPeakRss(): void {
  try {
    writeFileSync('/proc/self/clear_refs', '5')
  } catch {
    // not Linux, or not permitted: the inherited peak stays in the figure
  }
}

export function peakRss(): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))
    if (m) return Number(m[1]) * 1024
  } catch {
    // fall through
  }
  return process.resourceUsage().maxRSS * 1024
}
