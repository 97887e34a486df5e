/** Sharing groups must name real layers, and no layer's sublayer may belong to two groups. */
import { Diag } from "../../diagnostics.js";
import type { SharedPart } from "../../../model/model.js";
import type { Rule } from "./context.js";

export const sharingGroups: Rule = (ctx) => {
  const sharing = ctx.resolution.sharing;
  if (!sharing || sharing.mode !== "groups") return;
  const { layers } = ctx.model;
  const owner = new Map<string, string>();
  const names = new Set<string>();
  for (const g of sharing.groups) {
    if (names.has(g.name)) ctx.report(Diag.DuplicateGroup, g.decl.name.span, [g.name]);
    names.add(g.name);
    const outside = g.layers.find((l) => l >= layers);
    if (outside !== undefined) {
      ctx.report(Diag.SharingLayerOutOfRange, g.decl.layers.span, [g.name, outside, layers, layers - 1]);
      continue;
    }
    if (new Set(g.layers).size === 1) ctx.report(Diag.GroupWithOneLayer, g.decl.name.span, [g.name]);
    for (const part of g.share) {
      for (const layer of g.layers) {
        const key = `${layer}:${part}`;
        const first = owner.get(key);
        if (first !== undefined && first !== g.name) {
          ctx.report(Diag.LayerInTwoGroups, g.decl.layers.span, [layer, first, g.name, part satisfies SharedPart]);
          break;
        }
        owner.set(key, g.name);
      }
    }
  }
};
