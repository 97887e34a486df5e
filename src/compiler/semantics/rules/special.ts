/** Special token ids must be inside the vocabulary and must not collide. */
import { Diag } from "../../diagnostics.js";
import type { Rule } from "./context.js";

/** Roles that may share an id: RoBERTa's <s> is both CLS and BOS, </s> both SEP and EOS. */
const MAY_SHARE = new Set(["bos:cls", "cls:bos", "eos:sep", "sep:eos"]);

export const specialIdsFit: Rule = (ctx) => {
  const entries = Object.entries(ctx.model.special);
  for (const [role, id] of entries) {
    if (id >= ctx.model.vocab)
      ctx.report(Diag.SpecialIdOutOfVocab, ctx.atNearest(`special.${role}`, "vocab"), [role, id, ctx.model.vocab - 1]);
  }
  const byId = new Map<number, string>();
  for (const [role, id] of entries) {
    const other = byId.get(id);
    if (other !== undefined && !MAY_SHARE.has(`${other}:${role}`)) {
      ctx.report(Diag.SpecialIdClash, ctx.at(`special.${role}`), [other, role, id]);
    }
    if (other === undefined) byId.set(id, role);
  }
};
