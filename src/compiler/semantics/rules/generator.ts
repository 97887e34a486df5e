/** ELECTRA: a generator and the `rtd` objective come together, and with nothing else to learn from. */
import { Diag } from "../../diagnostics.js";
import { objective, SENTENCE_PAIR_OBJECTIVES, TEACHER_OBJECTIVES } from "../../../model/model.js";
import type { Rule } from "./context.js";

export const rtdNeedsGenerator: Rule = (ctx) => {
  if (!ctx.model.generator && objective(ctx.model, "rtd")) ctx.report(Diag.RtdNeedsGenerator, ctx.at("objectives.rtd"));
};

export const generatorFits: Rule = (ctx) => {
  const g = ctx.model.generator;
  if (!g) return;
  if (g.hidden % g.heads !== 0)
    ctx.report(Diag.GeneratorHeadsDoNotDivideHidden, ctx.atNearest("generator.heads", "generator.hidden"), [g.heads, g.hidden]);
  for (const name of ["mlm", "rtd"] as const) {
    if (!objective(ctx.model, name))
      ctx.report(Diag.GeneratorNeedsObjectives, ctx.atNearest("generator.hidden", `objectives.${name}`), [name]);
  }
  for (const name of [...SENTENCE_PAIR_OBJECTIVES, ...TEACHER_OBJECTIVES]) {
    if (objective(ctx.model, name))
      ctx.report(Diag.NotWithGenerator, ctx.atNearest(`objectives.${name}`, "generator.hidden"), [`Objective '${name}'`]);
  }
  if (ctx.model.teacher) ctx.report(Diag.NotWithGenerator, ctx.atNearest("teacher", "generator.hidden"), ["A teacher"]);
};
