/** Sizes that must agree with each other. */
import { Diag } from "../../diagnostics.js";
import type { Rule } from "./context.js";

export const headsDivideHidden: Rule = (ctx) => {
  const { heads, hidden } = ctx.model;
  if (hidden % heads !== 0) ctx.report(Diag.HeadsDoNotDivideHidden, ctx.atNearest("heads", "hidden"), [heads, hidden]);
};

export const factorizeBelowHidden: Rule = (ctx) => {
  const e = ctx.model.embeddings.factorize;
  if (e !== null && e >= ctx.model.hidden)
    ctx.report(Diag.FactorizeNotBelowHidden, ctx.atNearest("embeddings.factorize", "hidden"), [e, ctx.model.hidden]);
};

export const seqWithinPositions: Rule = (ctx) => {
  const { seq } = ctx.model.train;
  const { positions } = ctx.model.embeddings;
  if (seq > positions) ctx.report(Diag.SeqBeyondPositions, ctx.atNearest("train.seq", "embeddings.positions"), [seq, positions]);
};
