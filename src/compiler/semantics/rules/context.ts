/** What a check rule sees: one resolved model, its teacher, and a way to report against a property. */
import type { CatalogEntry, Diagnostic, RelatedInfo } from "../../diagnostics.js";
import { diagnostic } from "../../diagnostics.js";
import type { ResolvedModel } from "../../../model/model.js";
import type { Resolution } from "../resolve.js";
import type { Span } from "../../source.js";

/** What the rules read of a resolution (a model from a checkpoint has no declaration behind it). */
export type RuleSubject = Pick<Resolution, "model" | "origins" | "depths" | "sharing">;

export interface RuleContext {
  readonly model: ResolvedModel;
  readonly resolution: RuleSubject;
  /** The teacher's resolution when the model has a teacher that resolves; null otherwise. */
  readonly teacher: RuleSubject | null;
  /** Names of every model in scope, for "did you mean". */
  readonly modelNames: readonly string[];
  /** Span of the declaration that set `path`, falling back to the nearest enclosing path, then the model's name. */
  at(path: string): Span;
  /**
   * For a rule about several properties (heads and hidden): the span of whichever was set
   * nearest to this model in its extends chain — the line that made the combination wrong,
   * in the file the user is editing rather than in a base model's.
   */
  atNearest(...paths: string[]): Span;
  report(
    entry: CatalogEntry,
    span: Span,
    args?: readonly (string | number)[],
    extra?: { related?: RelatedInfo[]; suggestion?: string },
  ): void;
}

export type Rule = (ctx: RuleContext) => void;

export function makeContext(
  resolution: RuleSubject,
  teacher: RuleSubject | null,
  modelNames: readonly string[],
  sink: Diagnostic[],
): RuleContext {
  /** `path`, or the nearest enclosing path that was set, or "model" (always set). */
  const originPath = (path: string): string => {
    for (let p = path; p; p = p.includes(".") ? p.slice(0, p.lastIndexOf(".")) : "") {
      if (resolution.origins.has(p)) return p;
    }
    return "model";
  };
  return {
    model: resolution.model,
    resolution,
    teacher,
    modelNames,
    at(path) {
      return resolution.origins.get(originPath(path))!;
    },
    atNearest(...paths) {
      const depth = (p: string) => resolution.depths.get(originPath(p)) ?? -1;
      return this.at(paths.reduce((best, p) => (depth(p) > depth(best) ? p : best)));
    },
    report(entry, span, args = [], extra = {}) {
      sink.push(diagnostic(entry, span, args, extra));
    },
  };
}
