/**
 * Classification metrics over class ids (a label's index in Task.labels).
 */

function check(gold: readonly number[], predicted: readonly number[], classes?: number): void {
  if (gold.length !== predicted.length) {
    throw new RangeError(`gold and predicted differ in length (${gold.length} vs ${predicted.length})`);
  }
  if (classes === undefined) return;
  for (const ids of [gold, predicted]) {
    for (const c of ids) {
      if (!Number.isInteger(c) || c < 0 || c >= classes) throw new RangeError(`class id ${c} is outside 0..${classes - 1}`);
    }
  }
}

/** The fraction of positions where predicted equals gold; 0 for no examples. */
export function accuracy(gold: readonly number[], predicted: readonly number[]): number {
  check(gold, predicted);
  if (gold.length === 0) return 0;
  let right = 0;
  for (let i = 0; i < gold.length; i++) if (gold[i] === predicted[i]) right++;
  return right / gold.length;
}

/**
 * Macro-averaged F1: the unweighted mean, over the classes that occur in `gold` or in
 * `predicted`, of each class's F1 = 2·TP / (2·TP + FP + FN). Classes that occur in neither
 * are left out (rather than counted as 0 or 1), so a test split that lacks some rare class
 * is not penalized for it, while predicting a class that never occurs still counts (F1 0).
 * 0 for no examples. Class ids must be integers in [0, classes).
 */
export function macroF1(gold: readonly number[], predicted: readonly number[], classes: number): number {
  check(gold, predicted, classes);
  const tp = new Array<number>(classes).fill(0);
  const fp = new Array<number>(classes).fill(0);
  const fn = new Array<number>(classes).fill(0);
  for (let i = 0; i < gold.length; i++) {
    const g = gold[i]!;
    const p = predicted[i]!;
    if (g === p) tp[g]!++;
    else {
      fp[p]!++;
      fn[g]!++;
    }
  }
  let sum = 0;
  let present = 0;
  for (let c = 0; c < classes; c++) {
    const denom = 2 * tp[c]! + fp[c]! + fn[c]!;
    if (denom === 0) continue;
    sum += (2 * tp[c]!) / denom;
    present++;
  }
  return present === 0 ? 0 : sum / present;
}
