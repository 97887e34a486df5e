/** Objectives that need something else in the model: a teacher, a pooler, a shared vocabulary. */
import { Diag } from "../../diagnostics.js";
import { objective, SENTENCE_PAIR_OBJECTIVES, TEACHER_OBJECTIVES } from "../../../model/model.js";
import type { Rule } from "./context.js";

export const objectivesNeedTeacher: Rule = (ctx) => {
  if (ctx.model.teacher) return;
  for (const name of TEACHER_OBJECTIVES) {
    if (objective(ctx.model, name)) ctx.report(Diag.ObjectiveNeedsTeacher, ctx.at(`objectives.${name}`), [name]);
  }
};

export const sentenceObjectivesNeedPooler: Rule = (ctx) => {
  if (ctx.model.pooler !== "none") return;
  for (const name of SENTENCE_PAIR_OBJECTIVES) {
    if (objective(ctx.model, name)) ctx.report(Diag.ObjectiveNeedsPooler, ctx.atNearest(`objectives.${name}`, "pooler"), [name]);
  }
};

export const notBothNspAndSop: Rule = (ctx) => {
  if (objective(ctx.model, "nsp") && objective(ctx.model, "sop"))
    ctx.report(Diag.NspAndSop, ctx.atNearest("objectives.nsp", "objectives.sop"));
};

export const distillSharesVocab: Rule = (ctx) => {
  const teacher = ctx.teacher?.model;
  if (!teacher || !objective(ctx.model, "distill") || teacher.vocab === ctx.model.vocab) return;
  ctx.report(Diag.DistillVocabMismatch, ctx.atNearest("objectives.distill", "vocab", "teacher"), [
    ctx.model.vocab,
    teacher.name,
    teacher.vocab,
  ]);
};

export const hasObjectives: Rule = (ctx) => {
  if (ctx.model.objectives.length === 0) ctx.report(Diag.NoObjectives, ctx.at("model"), [ctx.model.name]);
};
