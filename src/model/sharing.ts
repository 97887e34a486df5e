/**
 * Facts about a model's layer sharing that more than one consumer needs, decided once here.
 */
import { SHARED_PARTS, type ResolvedModel, type SharingGroup } from "./model.js";

type Layout = Pick<ResolvedModel, "sharing" | "layers">;

/** The one group `sharing all` resolves to: every layer, sharing every part in the model's order (attention, ffn). */
export function sharingAllGroup(layers: number): SharingGroup {
  return { name: "all", layers: Array.from({ length: layers }, (_, i) => i), share: [...SHARED_PARTS] };
}

/**
 * Whether every layer shares one attention and one FFN: a single group over all layers, in
 * order, sharing both (whatever its name). Two models for which this holds have the same
 * layout, so `diff` shows them alike.
 */
export function sharesAllLayers(model: Layout): boolean {
  const only = model.sharing[0];
  if (model.sharing.length !== 1 || only === undefined) return false;
  const covers = only.layers.length === model.layers && only.layers.every((l, i) => l === i);
  return covers && SHARED_PARTS.every((part) => only.share.includes(part));
}

/**
 * Whether the sharing is exactly what `sharing all` resolves to (`sharingAllGroup`), name and
 * share order included, so that text writing `sharing all` reads back to the same groups.
 */
export function isSharingAll(model: Layout): boolean {
  const only = model.sharing[0];
  if (model.sharing.length !== 1 || only === undefined) return false;
  const all = sharingAllGroup(model.layers);
  return (
    only.name === all.name &&
    only.layers.length === all.layers.length &&
    only.layers.every((l, i) => l === all.layers[i]) &&
    only.share.length === all.share.length &&
    only.share.every((p, i) => p === all.share[i])
  );
}
