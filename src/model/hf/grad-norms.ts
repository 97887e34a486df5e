/**
 * Gradient norms under Hugging Face's names, as `bdlc run` reports them on either engine: from
 * each tensor's squared gradient norm by its name in the parameter table.
 */
import type { ResolvedModel } from "../model.js";
import { electraPair, hfNaming, type HfNaming } from "./names.js";

/**
 * Norms by Hugging Face name (a fused tensor, ModernBERT's attn.Wqkv, sums several of ours);
 * a tensor `naming` does not name keeps our name, or is left out.
 */
function normsByHfName(squared: ReadonlyMap<string, number>, naming: HfNaming, unnamed: "ours" | "omit"): Record<string, number> {
  const hf = new Map(naming.names.map((n) => [n.name, n.hf]));
  const sums: Record<string, number> = {};
  for (const [name, s] of squared) {
    const key = hf.get(name) ?? (unnamed === "ours" ? name : null);
    if (key !== null) sums[key] = (sums[key] ?? 0) + s;
  }
  return Object.fromEntries(Object.entries(sums).map(([k, s]) => [k, Math.sqrt(s)]));
}

/**
 * `grad_norms` keyed by the family's names; for a model with a generator (ELECTRA), each of its
 * two models under its own names, the shared embeddings' gradient (the sum of both models') in both.
 */
export function hfGradNorms(model: ResolvedModel, squared: ReadonlyMap<string, number>): Record<string, Record<string, number>> {
  if (!model.generator) return { grad_norms: normsByHfName(squared, hfNaming(model), "ours") };
  const pair = electraPair(model);
  return {
    generator_grad_norms: normsByHfName(squared, pair.generator.naming, "omit"),
    discriminator_grad_norms: normsByHfName(squared, pair.discriminator.naming, "omit"),
  };
}
