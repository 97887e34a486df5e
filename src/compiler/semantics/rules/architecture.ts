/** Sizes that must agree with each other. */
import { Diag } from "../../diagnostics.js";
import { attentionConfig, groupOwning, normPosition } from "../../../model/model.js";
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

/** ModernBERT's identity LayerNorm in layer 0 is a pre-LN idea, and only layer 0's own attention can lose it. */
export const firstAttentionNormFits: Rule = (ctx) => {
  if (ctx.model.first_attention_norm !== false) return;
  const at = ctx.atNearest("first_attention_norm");
  if (normPosition(ctx.model) !== "pre") ctx.report(Diag.FirstAttentionNormPostLn, at, []);
  const group = groupOwning(ctx.model, 0, "attention");
  if (group) ctx.report(Diag.FirstAttentionNormShared, at, [group.name, group.layers.filter((l) => l !== 0).join(", ")]);
};

export const rotaryFits: Rule = (ctx) => {
  const a = attentionConfig(ctx.model);
  if (a.rotary === null && a.local_rotary !== null) ctx.report(Diag.LocalRotaryWithoutRotary, ctx.atNearest("attention.local_rotary"), []);
  if (a.window !== null && a.window > ctx.model.embeddings.positions)
    ctx.report(Diag.WindowBeyondPositions, ctx.atNearest("attention.window", "embeddings.positions"), [
      a.window,
      ctx.model.embeddings.positions,
    ]);
  const width = ctx.model.hidden / ctx.model.heads;
  if (a.rotary !== null && Number.isInteger(width) && width % 2 !== 0)
    ctx.report(Diag.RotaryOddHeadWidth, ctx.atNearest("attention.rotary", "heads", "hidden"), [width]);
};
