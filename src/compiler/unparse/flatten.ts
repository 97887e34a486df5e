/**
 * A resolved model as a flat list of (property path, value written in `.bdl` syntax), in a
 * fixed order. `diff` compares two such lists line by line, so every value that means the
 * same thing must print the same way (e.g. special tokens in a fixed role order).
 *
 * `name`, `file`, `bases` and `expect` are left out: they say where a model comes from and
 * what its author checks, not what the model is.
 */
import {
  OBJECTIVE_ORDER,
  objective,
  type MaskSchedule,
  type MaskUnit,
  type Objective,
  type ResolvedModel,
  type Schedule,
  type SharingGroup,
  type TeacherLink,
} from "../../model/model.js";

export interface FlatProperty {
  path: string;
  text: string;
}

/**
 * `String(n)`, except that numbers below 1e-3 use exponent form (`1e-12`, `5e-4`), as
 * people write epsilons; `String` would give `1e-12` but `0.0005`.
 */
export function formatNumber(n: number): string {
  if (n !== 0 && Math.abs(n) < 1e-3) return n.toExponential();
  return String(n);
}

/** Roles in the order the reference models write them; any other role follows, sorted. */
const SPECIAL_ORDER = ["pad", "unk", "cls", "sep", "mask", "bos", "eos"];

export function flattenModel(model: ResolvedModel): FlatProperty[] {
  const n = formatNumber;
  const out: FlatProperty[] = [];
  const add = (path: string, text: string): void => {
    out.push({ path, text });
  };

  add("vocab", n(model.vocab));
  add("hidden", n(model.hidden));
  add("layers", n(model.layers));
  add("heads", n(model.heads));
  add("intermediate", n(model.intermediate));
  add("activation", model.activation);
  add("norm_eps", n(model.norm_eps));
  add("dropout", n(model.dropout));
  add("attention_dropout", n(model.attention_dropout));
  add("pooler", model.pooler);

  const emb = model.embeddings;
  add("embeddings.positions", n(emb.positions));
  add("embeddings.offset", n(emb.offset));
  add("embeddings.segments", n(emb.segments));
  add("embeddings.factorize", emb.factorize === null ? "none" : n(emb.factorize));

  add("sharing", sharingText(model));

  // Every objective appears, absent ones as `off`, so a diff shows an objective turned off.
  for (const name of OBJECTIVE_ORDER) {
    const o = objective(model, name);
    add(`objectives.${name}`, o ? objectiveText(o) : "off");
  }

  const m = model.masking;
  add("masking.rate", scheduleText(m.rate));
  add("masking.fractions", `mask ${n(m.mask)} random ${n(m.random)} keep ${n(m.keep)}`);
  add("masking.unit", unitText(m.unit));
  add("masking.schedule", maskScheduleText(m.schedule));

  add("teacher", model.teacher ? teacherText(model.teacher) : "none");
  add("tokenizer", model.tokenizer.kind + (model.tokenizer.lowercase ? " lowercase" : ""));
  add("special", specialText(model.special));

  const t = model.train;
  add("train.optimizer", t.optimizer);
  add("train.lr", n(t.lr));
  add("train.beta1", n(t.beta1));
  add("train.beta2", n(t.beta2));
  add("train.eps", n(t.eps));
  add("train.weight_decay", n(t.weight_decay));
  add("train.warmup", n(t.warmup));
  add("train.decay", t.decay);
  add("train.batch", n(t.batch));
  add("train.seq", n(t.seq));
  add("train.steps", n(t.steps));
  return out;
}

function sharingText(model: ResolvedModel): string {
  const groups = model.sharing;
  if (groups.length === 0) return "none";
  const only = groups[0];
  if (groups.length === 1 && only && isAll(only, model.layers)) return "all";
  return `{ ${groups.map(groupText).join("; ")} }`;
}

/** What `sharing all` means: one group over every layer sharing attention and ffn. */
function isAll(g: SharingGroup, layers: number): boolean {
  const covers = g.layers.length === layers && g.layers.every((l, i) => l === i);
  return covers && g.share.includes("attention") && g.share.includes("ffn");
}

function groupText(g: SharingGroup): string {
  const share = (["attention", "ffn"] as const).filter((p) => g.share.includes(p));
  return `group ${g.name} layers ${layersText(g.layers)} share ${share.join(" ")}`;
}

/** A run of two or more consecutive layers as a range `a..b`, anything else as a list. */
function layersText(layers: number[]): string {
  const first = layers[0];
  const last = layers[layers.length - 1];
  const consecutive = layers.every((l, i) => i === 0 || l === (layers[i - 1] ?? NaN) + 1);
  if (first !== undefined && last !== undefined && layers.length > 1 && consecutive) return `${first}..${last}`;
  return `[${layers.join(", ")}]`;
}

function objectiveText(o: Objective): string {
  const temperature = o.temperature === undefined ? "" : ` temperature ${formatNumber(o.temperature)}`;
  return `weight ${formatNumber(o.weight)}${temperature}`;
}

function scheduleText(s: Schedule): string {
  if (typeof s === "number") return formatNumber(s);
  return `${formatNumber(s.from)} -> ${formatNumber(s.to)} over ${formatNumber(s.steps)}`;
}

function unitText(u: MaskUnit): string {
  return u.kind === "ngram" ? `ngram ${u.n}` : u.kind;
}

function maskScheduleText(s: MaskSchedule): string {
  return s.kind === "static" ? `static duplicates ${s.duplicates}` : "dynamic";
}

function teacherText(t: TeacherLink): string {
  const parts = [t.model];
  if (t.checkpoint !== null) parts.push(`from ${JSON.stringify(t.checkpoint)}`);
  if (t.initLayers !== null) parts.push(`init layers [${t.initLayers.join(", ")}]`);
  if (t.initEmbeddings) parts.push("init embeddings");
  return parts.join(" ");
}

function specialText(special: Record<string, number>): string {
  const rank = (role: string): number => {
    const i = SPECIAL_ORDER.indexOf(role);
    return i < 0 ? SPECIAL_ORDER.length : i;
  };
  const byRole = (a: string, b: string): number => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0);
  const entries = Object.entries(special).sort(([a], [b]) => byRole(a, b));
  return entries.map(([role, id]) => `${role} ${id}`).join(" ");
}
