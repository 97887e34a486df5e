/** A teacher link must name a model in scope, and what it copies must fit the student. */
import { Diag } from "../../diagnostics.js";
import { embeddingWidth, feedForwardKind, normPosition } from "../../../model/model.js";
import type { RelatedInfo } from "../../diagnostics.js";
import type { Span } from "../../source.js";
import type { Rule, RuleContext } from "./context.js";

export const initLayersFit: Rule = (ctx) => {
  const link = ctx.model.teacher;
  const teacher = ctx.teacher?.model;
  if (!link?.initLayers || !teacher) return;
  const span = ctx.atNearest("teacher.initLayers", "layers");
  if (link.initLayers.length !== ctx.model.layers) {
    ctx.report(
      Diag.InitLayersLength,
      span,
      [link.initLayers.length, ctx.model.layers],
      inherited(ctx, "teacher.initLayers", span, "layers"),
    );
  }
  const outside = link.initLayers.find((l) => l >= teacher.layers);
  if (outside !== undefined) ctx.report(Diag.InitLayerOutOfRange, span, [outside, teacher.name, teacher.layers, teacher.layers - 1]);
  const mismatch = [
    teacher.hidden !== ctx.model.hidden && `hidden ${teacher.hidden} vs ${ctx.model.hidden}`,
    teacher.intermediate !== ctx.model.intermediate && `intermediate ${teacher.intermediate} vs ${ctx.model.intermediate}`,
  ].filter(Boolean);
  if (mismatch.length > 0) {
    const at = ctx.atNearest("teacher.initLayers", "hidden", "intermediate");
    ctx.report(
      Diag.InitShapeMismatch,
      at,
      ["layers", teacher.name, `teacher vs student ${mismatch.join(", ")}`],
      inherited(ctx, "teacher.initLayers", at, "layers"),
    );
  }
  // The shapes fit either way, but a layer's weights are trained for where its LayerNorms sit.
  if (normPosition(teacher) !== normPosition(ctx.model)) {
    const at = ctx.atNearest("teacher.initLayers", "norm_position");
    ctx.report(
      Diag.InitLayersNormPosition,
      at,
      [normPosition(teacher), teacher.name, normPosition(ctx.model)],
      inherited(ctx, "teacher.initLayers", at, "layers"),
    );
  }
  // A plain layer's W1 [H, 2·I] has the shape of a gated layer's of width I, but not its meaning; other widths fail above.
  if (feedForwardKind(teacher) !== feedForwardKind(ctx.model)) {
    const at = ctx.atNearest("teacher.initLayers", "feed_forward");
    ctx.report(
      Diag.InitLayersFeedForward,
      at,
      [feedForwardKind(teacher), teacher.name, feedForwardKind(ctx.model)],
      inherited(ctx, "teacher.initLayers", at, "layers"),
    );
  }
};

/**
 * When the line that made a copy impossible is the user's (`hidden 384`) but the copy was
 * asked for by a base model (distilbert's `init embeddings`), the error is reported at the
 * user's line, and this points at the inherited request and says how to drop it.
 */
function inherited(ctx: RuleContext, path: string, reportedAt: Span, part: "layers" | "embeddings"): { related?: RelatedInfo[] } {
  const request = ctx.at(path);
  if (request === reportedAt) return {};
  const link = ctx.model.teacher!;
  return {
    related: [
      { span: request, message: `copied because of this line; write 'teacher ${link.model} { init ${part} off }' not to copy ${part}` },
    ],
  };
}

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
    const at = ctx.atNearest(
      "teacher.initEmbeddings",
      "vocab",
      "hidden",
      "embeddings.factorize",
      "embeddings.positions",
      "embeddings.offset",
    );
    ctx.report(
      Diag.InitShapeMismatch,
      at,
      ["embeddings", teacher.name, `teacher vs student ${mismatch.join(", ")}`],
      inherited(ctx, "teacher.initEmbeddings", at, "embeddings"),
    );
  }
};
