/** What a selected token becomes must be a probability distribution; document masks need packed sequences. */
import { Diag } from "../../diagnostics.js";
import { objective, SENTENCE_PAIR_OBJECTIVES } from "../../../model/model.js";
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

/** NSP and SOP sequences are sentence pairs of one document: there is nothing to keep apart. */
export const documentMaskNeedsPacking: Rule = (ctx) => {
  if (!ctx.model.train.document_mask) return;
  for (const name of SENTENCE_PAIR_OBJECTIVES) {
    if (objective(ctx.model, name))
      ctx.report(Diag.DocumentMaskWithPairs, ctx.atNearest("train.document_mask", `objectives.${name}`), [name]);
  }
};
