// Area under the ROC curve (Mann-Whitney U), for the engine's evaluation and the Inference view.

/**
 * Area under the ROC curve of scores for the positive class `positive` (labels equal to it are
 * positives, any other label negative; ties count half); NaN without both.
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>, positive = 1): number {
  const idx = Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!)
  let pos = 0
  let neg = 0
  let rankSum = 0
  for (let i = 0; i < idx.length; ) {
    let j = i
    while (j < idx.length && scores[idx[j]!] === scores[idx[i]!]) j++
    const avgRank = (i + j + 1) / 2 // 1-based average rank of the tie group
    for (let k = i; k < j; k++) if (labels[idx[k]!] === positive) rankSum += avgRank
    i = j
  }
  for (let i = 0; i < labels.length; i++) labels[i] === positive ? pos++ : neg++
  if (!pos || !neg) return NaN
  return (rankSum - (pos * (pos + 1)) / 2) / (pos * neg)
}
