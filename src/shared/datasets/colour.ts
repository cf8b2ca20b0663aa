// The study's colour check: it kept natural-colour and greyscale tiles and excluded two kinds,
// greyscale stored as RGB (three identical channels posing as colour) and false colour (HiRISE
// IRB/MIRB products, whose hues are not Mars's). A heuristic on a small thumbnail:
// - grey-as-rgb: three channels that (almost) never differ;
// - false-colour: the mean hue of the coloured pixels lies outside the orange-red band of
//   natural-colour Mars (hue 0°–35°; HiRISE RGB crops sit near 10°, MIRB crops at 45°–60° or blue).
export type ColourClass = 'grey' | 'grey-as-rgb' | 'rgb' | 'false-colour'

/** Chroma (max − min channel) at which a pixel counts as coloured. */
const COLOURED_CHROMA = 12

export interface ColourReport {
  colour: ColourClass
  colouredFraction: number
  /** Mean hue of the coloured pixels in degrees, null when none is coloured. */
  hue: number | null
}

export function classifyColour(data: Uint8Array, pixels: number, channels: number): ColourReport {
  if (channels < 3) return { colour: 'grey', colouredFraction: 0, hue: null }
  let coloured = 0
  let r = 0
  let g = 0
  let b = 0
  for (let p = 0; p < pixels; p++) {
    const i = p * channels
    const R = data[i]!
    const G = data[i + 1]!
    const B = data[i + 2]!
    if (Math.max(R, G, B) - Math.min(R, G, B) >= COLOURED_CHROMA) {
      coloured++
      r += R
      g += G
      b += B
    }
  }
  const colouredFraction = pixels ? coloured / pixels : 0
  if (colouredFraction < 0.01) return { colour: 'grey-as-rgb', colouredFraction, hue: null }
  const hue = hueOf(r / coloured, g / coloured, b / coloured)
  const natural = hue <= 35 || hue >= 345
  return { colour: natural ? 'rgb' : 'false-colour', colouredFraction, hue }
}

export function hueOf(r: number, g: number, b: number): number {
  const max = Math.max(r, g, b)
  const min = Math.min(r, g, b)
  const c = max - min
  if (c === 0) return 0
  let h: number
  if (max === r) h = ((g - b) / c) % 6
  else if (max === g) h = (b - r) / c + 2
  else h = (r - g) / c + 4
  return (h * 60 + 360) % 360
}

/** The colours the study excluded from training. */
export function isExcludedColour(c: ColourClass | null): boolean {
  return c === 'grey-as-rgb' || c === 'false-colour'
}
