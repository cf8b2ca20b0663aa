// Typed refusals of a malformed job message, so main (and a test) can tell "the engine has no
// such job" and "these params do not fit that job" from a job that ran and failed.
import { formatIssues, type IssueLike } from '../ipc/zod-message'

/** A start-job for a kind the engine does not know. */
export class UnknownEngineJobError extends Error {
  readonly code = 'ENGINE_JOB_KIND'
  constructor(readonly kind: string) {
    super(`the engine has no job kind "${kind.slice(0, 80)}"`)
    this.name = 'UnknownEngineJobError'
  }
}

/** A start-job whose params fail its kind's schema: names the kind and each field. */
export class EngineJobParamsError extends Error {
  readonly code = 'ENGINE_JOB_PARAMS'
  readonly issues: { path: string; message: string }[]
  constructor(
    readonly kind: string,
    zodIssues: readonly IssueLike[]
  ) {
    super(`invalid params for engine job "${kind}":\n${formatIssues(zodIssues)}`)
    this.name = 'EngineJobParamsError'
    this.issues = zodIssues.slice(0, 50).map((i) => ({ path: i.path.map(String).join('.') || '(root)', message: i.message }))
  }
}

/** An event or a result from the engine that does not match its kind's schema. */
export class EngineJobOutputError extends Error {
  readonly code = 'ENGINE_JOB_OUTPUT'
  constructor(kind: string, what: string, zodIssues: readonly IssueLike[]) {
    super(`the engine's ${what} of job "${kind}" does not match its schema:\n${formatIssues(zodIssues)}`)
    this.name = 'EngineJobOutputError'
  }
}
