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
  normPosition,
  objective,
  type MaskSchedule,
  type MaskUnit,
  type Objective,
  type ResolvedModel,
  type Schedule,
  type SharingGroup,
  type TeacherLink,
} from "../../model/model.js";
import { formatNumber } from "../../model/numbers.js";
import { sharesAllLayers } from "../../model/sharing.js";
import { specialRoles } from "../../model/specials.js";
import { layersText } from "./layers-text.js";

export interface FlatProperty {
  path: string;
  text: string;
}

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
  add("norm_position", normPosition(model));
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

/** A layout that shares every layer reads `all` whatever its group's name, so `diff` shows no change between such models. */
function sharingText(model: ResolvedModel): string {
  const groups = model.sharing;
  if (groups.length === 0) return "none";
  if (sharesAllLayers(model)) return "all";
  return `{ ${groups.map(groupText).join("; ")} }`;
}

function groupText(g: SharingGroup): string {
  const share = (["attention", "ffn"] as const).filter((p) => g.share.includes(p));
  return `group ${g.name} layers ${layersText(g.layers)} share ${share.join(" ")}`;
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

/** The roles in their one fixed order (ids written with `String`, as they are integers). */
export function specialText(special: Record<string, number>): string {
  return specialRoles(special).map((role) => `${role} ${special[role]}`).join(" ");
}
