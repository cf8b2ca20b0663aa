// HiRISE observation ids in file names. Tiles of one observation are near neighbours, so the
// observation is the unit a split keeps together (the landmark set: the part before `_RED-`).

/** Mission phase prefixes of HiRISE product ids (PSP primary, ESP extended, …). */
const OBSERVATION = /(?:^|[^A-Z0-9])((?:ESP|PSP|AEB|INV|TRA|CAL|PSD)_\d{6}_\d{4})(?![0-9])/i

/** `ESP_011472_1225_RED-0032.jpg` → `ESP_011472_1225`; null where the name carries no id. */
export function parseObservationId(fileName: string): string | null {
  const m = OBSERVATION.exec(fileName)
  return m ? m[1]!.toUpperCase() : null
}

/**
 * The key a split groups by: the observation where known, else the source image, so that
 * the tiles cut from one unnamed image still never straddle two splits.
 */
export function splitGroupKey(observationId: string | null, imageSha256: string): string {
  return observationId ?? `image:${imageSha256}`
}
