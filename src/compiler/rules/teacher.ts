/** A teacher link must name a model in scope, and what it copies must fit the student. */
import { Diag } from "../diagnostics.js";
import { embeddingWidth } from "../model.js";
import type { Rule } from "./context.js";

export const initLayersFit: Rule = (ctx) => {
  const link = ctx.model.teacher;
  const teacher = ctx.teacher?.model;
  if (!link?.initLayers || !teacher) return;
  const span = ctx.atNearest("teacher.initLayers", "layers");
  if (link.initLayers.length !== ctx.model.layers) {
    ctx.report(Diag.InitLayersLength, span, [link.initLayers.length, ctx.model.layers]);
  }
  const outside = link.initLayers.find((l) => l >= teacher.layers);
  if (outside !== undefined) ctx.report(Diag.InitLayerOutOfRange, span, [outside, teacher.name, teacher.layers, teacher.layers - 1]);
  const mismatch = [
    teacher.hidden !== ctx.model.hidden && `hidden ${teacher.hidden} vs ${ctx.model.hidden}`,
    teacher.intermediate !== ctx.model.intermediate && `intermediate ${teacher.intermediate} vs ${ctx.model.intermediate}`,
  ].filter(Boolean);
  if (mismatch.length > 0) ctx.report(Diag.InitShapeMismatch, span, ["layers", teacher.name, `teacher vs student ${mismatch.join(", ")}`]);
};

export const initEmbeddingsFit: Rule = (ctx) => {
  const link = ctx.model.teacher;
  const teacher = ctx.teacher?.model;
  if (!link?.initEmbeddings || !teacher) return;
  const mismatch = [
    teacher.vocab !== ctx.model.vocab && `vocab ${teacher.vocab} vs ${ctx.model.vocab}`,
    embeddingWidth(teacher) !== embeddingWidth(ctx.model) && `embedding width ${embeddingWidth(teacher)} vs ${embeddingWidth(ctx.model)}`,
    teacher.embeddings.positions + teacher.embeddings.offset < ctx.model.embeddings.positions + ctx.model.embeddings.offset &&
      `position rows ${teacher.embeddings.positions + teacher.embeddings.offset} vs ${ctx.model.embeddings.positions + ctx.model.embeddings.offset}`,
  ].filter(Boolean);
  if (mismatch.length > 0) {
    ctx.report(Diag.InitShapeMismatch, ctx.at("teacher.initEmbeddings"), ["embeddings", teacher.name, `teacher vs student ${mismatch.join(", ")}`]);
  }
};
