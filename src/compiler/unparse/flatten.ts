/**
 * A resolved model as a flat list of (property path, value written in `.bdl` syntax), in a
 * fixed order. `diff` compares two such lists line by line, so every value that means the
 * same thing must print the same way (e.g. special tokens in a fixed role order).
 *
 * `name`, `file`, `bases` and `expect` are left out: they say where a model comes from and
 * what its author checks, not what the model is.
 */
import {
  attentionConfig,
  OBJECTIVE_ORDER,
  objective,
  SHARED_PARTS,
  type ResolvedModel,
  type SharingGroup,
  type TeacherLink,
} from "../../model/model.js";
import { sharesAllLayers } from "../../model/sharing.js";
import {
  architectureProperties,
  attentionProperties,
  embeddingsProperties,
  generatorProperties,
  propertyLine,
  fractionsText,
  groupText,
  maskScheduleText,
  objectiveSettings,
  scheduleText,
  specialText,
  tokenizerText,
  trainProperties,
  unitText,
} from "./model-text.js";

export interface FlatProperty {
  path: string;
  text: string;
}

export function flattenModel(model: ResolvedModel): FlatProperty[] {
  const out: FlatProperty[] = [];
  const add = (path: string, text: string): void => {
    out.push({ path, text });
  };

  for (const [key, text] of architectureProperties(model, { listDefaults: true })) add(key, text);

  for (const [key, text] of embeddingsProperties(model.embeddings)) add(`embeddings.${key}`, text);
  // Every property appears, so a diff shows factorizing turned on or off.
  if (model.embeddings.factorize === null) add("embeddings.factorize", "none");
  for (const [key, text] of attentionProperties(attentionConfig(model))) add(`attention.${key}`, text);

  add("generator", model.generator ? generatorProperties(model.generator).map(propertyLine).join(" ") : "none");
  add("sharing", sharingText(model));

  // Every objective appears, absent ones as `off`, so a diff shows an objective turned off.
  for (const name of OBJECTIVE_ORDER) {
    const o = objective(model, name);
    add(`objectives.${name}`, o ? objectiveSettings(o) : "off");
  }

  const m = model.masking;
  add("masking.rate", scheduleText(m.rate));
  add("masking.fractions", fractionsText(m));
  add("masking.unit", unitText(m.unit));
  add("masking.schedule", maskScheduleText(m.schedule));

  add("teacher", model.teacher ? teacherText(model.teacher) : "none");
  add("tokenizer", tokenizerText(model.tokenizer));
  add("special", specialText(model.special));

  for (const [key, text] of trainProperties(model.train, { listDefaults: true })) add(`train.${key}`, text);
  return out;
}

/** A layout that shares every layer reads `all` whatever its group's name, so `diff` shows no change between such models. */
function sharingText(model: ResolvedModel): string {
  const groups = model.sharing;
  if (groups.length === 0) return "none";
  if (sharesAllLayers(model)) return "all";
  return `{ ${groups.map(canonicalGroupText).join("; ")} }`;
}

/** Parts in the model's order, so two groups that share the same parts read alike. */
function canonicalGroupText(g: SharingGroup): string {
  return groupText(
    g,
    SHARED_PARTS.filter((p) => g.share.includes(p)),
  );
}

function teacherText(t: TeacherLink): string {
  const parts = [t.model];
  if (t.checkpoint !== null) parts.push(`from ${JSON.stringify(t.checkpoint)}`);
  if (t.initLayers !== null) parts.push(`init layers [${t.initLayers.join(", ")}]`);
  if (t.initEmbeddings) parts.push("init embeddings");
  return parts.join(" ");
}
