// A malformed annotation file: says which file, where, and what is wrong, so the user can fix it.
export class FormatError extends Error {
  constructor(
    readonly format: 'coco' | 'yolo' | 'voc' | 'xml' | 'imagefolder' | 'landmarks',
    readonly file: string,
    detail: string
  ) {
    super(`${file}: ${detail}`)
    this.name = 'FormatError'
  }
}
