// Names of the classifier graphs inference exports to onnx-cache/: one per checkpoint content,
// step and input size. The engine writes them; the main process removes a deleted run's.

/** What every cached graph of the checkpoint with this SHA-256 starts with. */
export function classifierGraphPrefix(sha256: string): string {
  return `classifier-${sha256}-`
}

export function classifierGraphName(sha256: string, step: number, imgSize: number): string {
  return `${classifierGraphPrefix(sha256)}s${step}-${imgSize}px.onnx`
}
