/** What a selected token becomes must be a probability distribution. */
import { Diag } from "../../diagnostics.js";
import type { Rule } from "./context.js";

export const maskFractionsSumToOne: Rule = (ctx) => {
  const { mask, random, keep } = ctx.model.masking;
  const sum = mask + random + keep;
  if (Math.abs(sum - 1) > 1e-9) {
    const show = (n: number) => String(Number(n.toPrecision(12)));
    ctx.report(Diag.MaskFractionsSum, ctx.atNearest("masking.mask", "masking.random", "masking.keep"), [
      show(mask),
      show(random),
      show(keep),
      show(sum),
    ]);
  }
};
