// Keyboard shortcuts scoped to a component's lifetime. Keys are written like "Alt+1" or "j".
import { onBeforeUnmount, onMounted } from 'vue'

export function keyName(e: KeyboardEvent): string {
  const parts: string[] = []
  if (e.ctrlKey || e.metaKey) parts.push('Ctrl')
  if (e.altKey) parts.push('Alt')
  if (e.shiftKey && e.key.length > 1) parts.push('Shift')
  parts.push(e.key.length === 1 ? e.key.toLowerCase() : e.key)
  return parts.join('+')
}

export function useShortcuts(map: Record<string, (e: KeyboardEvent) => void>): void {
  const onKey = (e: KeyboardEvent) => {
    const target = e.target as HTMLElement | null
    const typing = target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT' || target.isContentEditable)
    const name = keyName(e)
    if (typing && !name.includes('Ctrl') && !name.includes('Alt') && name !== 'Escape') return
    const handler = map[name]
    if (handler) {
      e.preventDefault()
      handler(e)
    }
  }
  onMounted(() => window.addEventListener('keydown', onKey))
  onBeforeUnmount(() => window.removeEventListener('keydown', onKey))
}
