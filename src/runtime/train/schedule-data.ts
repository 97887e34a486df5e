/**
 * Which examples form the batch of a given step: a pure function of (seed, step), so a
 * resumed run sees exactly the batches — and, with masks a function of (seed, epoch,
 * index), exactly the masks — that an uninterrupted run would.
 */
import { seedFrom, shuffle, createRng } from "../data/random.js";

export interface BatchSlot {
  epoch: number;
  /** Index of the example in the (unshuffled) example list. */
  index: number;
}

export class BatchOrder {
  private readonly permutations = new Map<number, number[]>();

  constructor(
    private readonly examples: number,
    private readonly batch: number,
    private readonly seed: number,
  ) {
    if (examples < 1) throw new Error("no training examples");
  }

  /** Epoch e visits every example once, in an order drawn from (seed, e). */
  private order(epoch: number): number[] {
    let p = this.permutations.get(epoch);
    if (!p) {
      p = shuffle(
        Array.from({ length: this.examples }, (_, i) => i),
        createRng(seedFrom(this.seed, "order", epoch)),
      );
      // Keep only the current and next epoch's orders: a long run must not hoard them.
      for (const e of this.permutations.keys()) if (e < epoch - 1) this.permutations.delete(e);
      this.permutations.set(epoch, p);
    }
    return p;
  }

  /** The `batch` examples of `step` (0-based), continuing across epoch boundaries. */
  slots(step: number): BatchSlot[] {
    const out: BatchSlot[] = [];
    for (let j = 0; j < this.batch; j++) {
      const position = step * this.batch + j;
      const epoch = Math.floor(position / this.examples);
      out.push({ epoch, index: this.order(epoch)[position % this.examples]! });
    }
    return out;
  }
}
