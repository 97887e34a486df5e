/**
 * `bdlc print --resolved`: a resolved model as a stand-alone `.bdl` model declaration, with
 * no `import` and no `extends`, and every property written out in one fixed order, so two
 * printed models compare with plain `diff`. Reading the printed text back resolves to the
 * same `ResolvedModel` (apart from `file` and `bases`), given the teacher model in scope.
 *
 * The text is built line by line here and then run through the formatter, so it is
 * canonical by construction: `bdlc fmt` leaves it unchanged.
 */
import { formatSource, quoteString } from "./format.js";
import {
  architectureProperties,
  attentionProperties,
  embeddingsProperties,
  generatorProperties,
  fractionsText,
  groupText,
  maskScheduleText,
  objectiveSettings,
  OPTIMIZER_PROPERTIES,
  propertyLine,
  scheduleText,
  specialText,
  tokenizerText,
  trainProperties,
  unitText,
} from "./model-text.js";
import { objective, type ResolvedModel } from "../../model/model.js";
import { formatNumber } from "../../model/numbers.js";
import { isSharingAll } from "../../model/sharing.js";

const n = formatNumber;

/**
 * Prints `model`; `teacher` is the resolved model its `teacher` link names, when known
 * (it only adds a comment on how `cosine` bridges a difference in width).
 */
export function printResolved(model: ResolvedModel, teacher: ResolvedModel | null = null): string {
  const out = new LineBuilder();
  const from = model.bases.length > 0 ? `, extends ${model.bases.join(" -> ")}` : "";
  out.line(`// bdlc print --resolved: ${model.name} (${oneLine(model.file)})${from}`);
  out.open(`model ${model.name}`);

  for (const p of architectureProperties(model)) out.line(propertyLine(p));

  out.blank();
  out.open("embeddings");
  for (const p of embeddingsProperties(model.embeddings)) out.line(propertyLine(p));
  out.close();

  // Only a model with rotary positions or local attention has the record (as `factorize`).
  if (model.attention) {
    out.blank();
    out.open("attention");
    for (const p of attentionProperties(model.attention)) out.line(propertyLine(p));
    out.close();
  }

  if (model.generator) {
    out.blank();
    out.open("generator");
    for (const p of generatorProperties(model.generator)) out.line(propertyLine(p));
    out.close();
  }

  out.blank();
  printSharing(out, model);

  out.blank();
  out.open("objectives");
  for (const o of model.objectives) out.line(`${o.name} ${objectiveSettings(o)}`);
  out.close();

  out.blank();
  const m = model.masking;
  out.open("masking");
  out.line(`rate ${scheduleText(m.rate)}`);
  out.line(fractionsText(m));
  out.line(`unit ${unitText(m.unit)}`);
  out.line(`schedule ${maskScheduleText(m.schedule)}`);
  out.close();

  if (model.teacher) {
    const t = model.teacher;
    out.blank();
    const note = teacherNote(model, teacher);
    if (note) out.line(note);
    const head = `teacher ${t.model}${t.checkpoint === null ? "" : ` from ${quoteString(t.checkpoint)}`}`;
    if (t.initLayers === null && !t.initEmbeddings) {
      out.line(head);
    } else {
      out.open(head);
      if (t.initLayers !== null) out.line(`init layers [${t.initLayers.join(", ")}]`);
      if (t.initEmbeddings) out.line("init embeddings");
      out.close();
    }
  }

  out.blank();
  out.line(`tokenizer ${tokenizerText(model.tokenizer)}`);
  const special = specialText(model.special);
  out.line(special === "" ? "special {}" : `special { ${special} }`);

  out.blank();
  const train = trainProperties(model.train);
  out.open("train");
  out.line(train.slice(0, OPTIMIZER_PROPERTIES).map(propertyLine).join(" "));
  for (const p of train.slice(OPTIMIZER_PROPERTIES)) out.line(propertyLine(p));
  out.close();

  if (model.expect.length > 0) {
    out.blank();
    for (const e of model.expect) out.line(`expect ${e.key} ${e.text}`);
  }
  out.close();

  const formatted = formatSource({ path: `<print ${model.name}>`, text: out.text() });
  if (formatted.text === undefined) {
    const why = formatted.diagnostics.map((d) => d.message).join("; ");
    throw new Error(`internal error: printed model '${model.name}' does not parse: ${why}`);
  }
  return formatted.text;
}

/**
 * The comment printed above a teacher link when `cosine` compares hidden states of
 * different widths, which needs a learned projection; null when there is nothing to say.
 */
export function teacherNote(model: ResolvedModel, teacher: ResolvedModel | null | undefined): string | null {
  if (!model.teacher || !teacher || !objective(model, "cosine")) return null;
  if (teacher.hidden === model.hidden) return null;
  return `// cosine compares hidden states through a learned projection ${n(model.hidden)} -> ${n(teacher.hidden)}`;
}

/** `sharing none`, `sharing all`, or one `group` line per sharing group. */
function printSharing(out: LineBuilder, model: ResolvedModel): void {
  const groups = model.sharing;
  if (groups.length === 0) {
    out.line("sharing none");
    return;
  }
  // Only exactly what `sharing all` resolves to prints as it, so the text reads back to the same groups.
  if (isSharingAll(model)) {
    out.line("sharing all");
    return;
  }
  out.open("sharing");
  for (const g of groups) out.line(groupText(g));
  out.close();
}

/** A path inside a one-line comment. */
function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, " ");
}

/** Indented lines; blank lines requested at the start of a block or twice in a row are dropped. */
class LineBuilder {
  private readonly lines: string[] = [];
  private depth = 0;
  private pendingBlank = false;

  line(text: string): void {
    if (this.pendingBlank) this.lines.push("");
    this.pendingBlank = false;
    this.lines.push("  ".repeat(this.depth) + text);
  }

  blank(): void {
    if (this.lines.length > 0 && !this.lines.at(-1)!.endsWith("{")) this.pendingBlank = true;
  }

  open(header: string): void {
    this.line(`${header} {`);
    this.depth++;
  }

  close(): void {
    this.pendingBlank = false;
    this.depth--;
    this.line("}");
  }

  text(): string {
    return this.lines.join("\n") + "\n";
  }
}
