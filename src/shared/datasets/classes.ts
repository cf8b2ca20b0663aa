// Class names: the workstation's canonical names are lower-case kebab (`crater`, `no-crater`);
// ImageFolder layouts use the study's CamelCase folders (`Crater`, `NoCrater`). The mapping is
// reversible so an export re-imports to the same labels.

export const DEFAULT_CLASSES = ['crater', 'no-crater'] as const

/** `NoCrater`, `no_crater`, `No Crater` → `no-crater`. */
export function classFromFolder(folder: string): string {
  return folder
    .trim()
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/[\s_]+/g, '-')
    .replace(/-+/g, '-')
    .toLowerCase()
}

/** `no-crater` → `NoCrater`. */
export function folderFromClass(className: string): string {
  return className
    .split('-')
    .filter(Boolean)
    .map((part) => part[0]!.toUpperCase() + part.slice(1))
    .join('')
}

/** A user-typed class name, checked: letters, digits and single dashes. */
export function normaliseClassName(name: string): string {
  const c = classFromFolder(name)
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(c)) throw new Error(`"${name}" is not a usable class name (letters, digits and dashes)`)
  return c
}
