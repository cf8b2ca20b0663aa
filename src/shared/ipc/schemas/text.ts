// Names people give things (models, datasets, runs) end up in tables, terminals and file names:
// no control characters (newlines, tabs, ANSI escape sequences) and no bidirectional overrides,
// which could redraw a terminal or reorder what a reader sees.
import { z } from 'zod'

/** C0 and C1 control characters, DEL, and the Unicode bidirectional embeddings, overrides and isolates. */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/

/** A one-line name of 1..max characters, trimmed, without control characters. */
export function displayName(max: number) {
  return z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((s) => !CONTROL_CHARACTERS.test(s), 'must not contain control characters (newlines, tabs, escape sequences)')
}
