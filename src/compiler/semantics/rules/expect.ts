/** `expect params 19M`: the count, derived from the resolved model, must match what was written. */
import { Diag } from "../../diagnostics.js";
import { countParams, formatCount, meetsExpectation } from "../../../model/counts.js";
import type { Rule } from "./context.js";

export const expectationsHold: Rule = (ctx) => {
  if (ctx.model.expect.length === 0) return;
  const counts = countParams(ctx.model, ctx.teacher?.model ?? null);
  for (const e of ctx.model.expect) {
    const actual = e.key === "params" ? counts.total : counts.encoder;
    if (!meetsExpectation(e, actual)) {
      const what = e.key === "params" ? "the total parameter count" : "the encoder parameter count";
      ctx.report(Diag.ExpectMismatch, ctx.at(`expect.${e.key}`), [what, e.text, formatCount(actual), roughly(actual, e.scale)]);
    }
  }
};

function roughly(n: number, scale: number): string {
  const suffix = scale === 1e9 ? "B" : scale === 1e6 ? "M" : scale === 1e3 ? "K" : "";
  if (!suffix) return `${formatCount(n)} exactly`;
  return `about ${Number((n / scale).toPrecision(4))}${suffix}`;
}
