// The error every dataset repository throws for a missing row; services map it to "X does not exist".
export class NotFoundError extends Error {
  constructor(what: string) {
    super(`${what} does not exist`)
    this.name = 'NotFoundError'
  }
}
