/**
 * The catalog of diagnostics. Codes are stable: never renumber or reuse one; add new
 * ones at the end of their range. Messages use `{0}`, `{1}`… placeholders.
 *
 *   BDL001–009  lexing and parsing
 *   BDL010–019  files, imports and names
 *   BDL020–029  properties and values
 *   BDL030–039  architecture
 *   BDL040–049  sharing
 *   BDL050–059  objectives
 *   BDL060–069  masking
 *   BDL070–079  teacher links
 *   BDL080–089  expectations
 *   BDL090–099  tokenizer and special tokens, training
 */
import { lineCol, lineText, type Span } from "./source.js";

export type Severity = "error" | "warning";

export interface CatalogEntry {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
}

function entry(code: string, message: string, severity: Severity = "error"): CatalogEntry {
  return { code, severity, message };
}

export const Diag = {
  UnexpectedCharacter: entry("BDL001", "Unexpected character {0}."),
  UnterminatedString: entry("BDL002", "Unterminated string: a string must close with '\"' on the same line."),
  SyntaxError: entry("BDL003", "{0}"),
  // BDL004 is retired: never reuse it.
  MissingValue: entry("BDL005", "'{0}' needs a value on the same line."),
  TooManyErrors: entry("BDL006", "Too many errors: {0}."),

  CannotReadFile: entry("BDL010", "Cannot read '{0}': {1}."),
  ImportCycle: entry("BDL011", "Import cycle: {0}."),
  DuplicateModel: entry("BDL012", "Model '{0}' is declared more than once (also in {1})."),
  UnknownModel: entry("BDL013", "Unknown model '{0}'.{1}"),
  ExtendsCycle: entry("BDL014", "Extends cycle: {0}."),

  UnknownProperty: entry("BDL020", "Unknown property '{0}' in {1}.{2}"),
  UnknownBlock: entry("BDL021", "Unknown block '{0}'.{1}"),
  WrongValueType: entry("BDL022", "'{0}' expects {1}, not {2}."),
  UnknownValue: entry("BDL023", "'{0}' is not a valid {1}.{2}"),
  DuplicateProperty: entry("BDL024", "'{0}' is set twice in the same block; the second value wins.", "warning"),
  ValueOutOfRange: entry("BDL025", "'{0}' must be {1}, not {2}."),
  MissingProperty: entry("BDL026", "Model '{0}' does not set '{1}', nor does any model it extends."),

  HeadsDoNotDivideHidden: entry("BDL030", "'heads' ({0}) must divide 'hidden' ({1})."),
  FactorizeNotBelowHidden: entry("BDL031", "'factorize' ({0}) must be smaller than 'hidden' ({1})."),
  FirstAttentionNormPostLn: entry(
    "BDL032",
    "'first_attention_norm false' needs 'norm_position pre': in a post-LN layer that LayerNorm normalises the layer's output.",
  ),
  FirstAttentionNormShared: entry(
    "BDL033",
    "'first_attention_norm false' removes layer 0's attention LayerNorm, but sharing group '{0}' shares that attention with layers {1}, which need it.",
  ),
  LocalRotaryWithoutRotary: entry(
    "BDL034",
    "'local_rotary' is the RoPE base of local layers, but the model has no rotary positions ('attention {{ rotary THETA }}').",
  ),
  WindowBeyondPositions: entry(
    "BDL036",
    "'window' ({0}) is wider than the model's {1} positions, so local layers would see every key; give a smaller window or leave it out.",
  ),
  RotaryOddHeadWidth: entry(
    "BDL035",
    "Rotary positions rotate pairs of a head's features, so its width (hidden / heads = {0}) must be even.",
  ),
  GeneratorHeadsDoNotDivideHidden: entry("BDL037", "The generator's 'heads' ({0}) must divide its 'hidden' ({1})."),

  SharingLayerOutOfRange: entry("BDL040", "Sharing group '{0}' names layer {1}, but the model has {2} layers (0..{3})."),
  LayerInTwoGroups: entry("BDL041", "Layer {0} is claimed by sharing groups '{1}' and '{2}' for {3}."),
  DuplicateGroup: entry("BDL042", "Sharing group '{0}' is declared twice."),
  UnknownSharedPart: entry("BDL043", "'{0}' is not a shareable sublayer.{1}"),
  BadSharingMode: entry("BDL044", "'sharing {0}' is not valid: write 'sharing all', 'sharing none' or 'sharing {{ … }}'.{1}"),
  GroupWithOneLayer: entry("BDL045", "Sharing group '{0}' has only one layer, so it shares nothing.", "warning"),

  UnknownObjective: entry("BDL050", "Unknown objective '{0}'.{1}"),
  ObjectiveNeedsTeacher: entry("BDL051", "Objective '{0}' needs a 'teacher' to learn from."),
  ObjectiveNeedsPooler: entry("BDL052", "Objective '{0}' classifies the pooled [CLS] output, but the model has 'pooler none'."),
  NspAndSop: entry("BDL053", "'nsp' and 'sop' build sentence pairs in incompatible ways; turn one off."),
  DistillVocabMismatch: entry(
    "BDL054",
    "'distill' compares logits over the vocabulary, but the student has vocab {0} and teacher '{1}' has vocab {2}.",
  ),
  UnknownObjectiveOption: entry("BDL055", "Objective '{0}' has no option '{1}'.{2}"),
  NoObjectives: entry("BDL056", "Model '{0}' has no objectives: it cannot be pretrained.", "warning"),
  RtdNeedsGenerator: entry(
    "BDL057",
    "Objective 'rtd' detects the tokens a generator replaced, but the model declares no 'generator {{ hidden … heads … intermediate … }}'.",
  ),
  GeneratorNeedsObjectives: entry(
    "BDL058",
    "A generator learns by 'mlm' and teaches the model by 'rtd', but objective '{0}' is off; turn it on or remove the generator.",
  ),
  NotWithGenerator: entry("BDL059", "{0} cannot be combined with a generator (ELECTRA pretrains with 'mlm' and 'rtd' only)."),

  MaskFractionsSum: entry("BDL060", "Masking fractions mask {0} + random {1} + keep {2} = {3}, but they must sum to 1."),
  DuplicatesWithDynamic: entry("BDL061", "'duplicates' only applies to 'schedule static'; this model's schedule is dynamic."),
  SpanSettingWithoutSpan: entry("BDL062", "'{0}' only applies to 'unit span'; this model's unit is {1}."),
  DocumentMaskWithPairs: entry(
    "BDL063",
    "'document_mask' keeps packed documents apart, but objective '{0}' builds each sequence from sentence pairs of one document; turn one of them off.",
  ),

  TeacherUnknown: entry("BDL070", "Unknown teacher model '{0}'.{1}"),
  InitLayersLength: entry("BDL071", "'init layers' lists {0} teacher layers, but the student has {1} layers."),
  InitLayerOutOfRange: entry("BDL072", "'init layers' names teacher layer {0}, but teacher '{1}' has {2} layers (0..{3})."),
  InitShapeMismatch: entry("BDL073", "Cannot copy {0} from teacher '{1}': {2}."),
  TeacherIsSelf: entry("BDL074", "Model '{0}' cannot be its own teacher."),
  InitLayersNormPosition: entry(
    "BDL075",
    "'init layers' copies {0}-LN layers of teacher '{1}' into a {2}-LN student, where the same weights compute something else; give both the same 'norm_position'.",
  ),
  InitLayersFeedForward: entry(
    "BDL076",
    "'init layers' copies {0} feed-forward layers of teacher '{1}' into a {2} student, where the same weights compute something else; give both the same 'feed_forward'.",
  ),

  ExpectMismatch: entry("BDL080", "Expected {0} to be {1}, but it is {2} ({3})."),
  UnknownExpectKey: entry("BDL081", "Unknown expectation '{0}'.{1}"),

  SpecialIdOutOfVocab: entry("BDL090", "Special token '{0}' has id {1}, outside the vocabulary (0..{2})."),
  SpecialIdClash: entry("BDL092", "Special tokens '{0}' and '{1}' share id {2}."),
  SeqBeyondPositions: entry("BDL093", "'train seq' ({0}) is longer than the {1} learned positions."),
} as const satisfies Record<string, CatalogEntry>;

export interface RelatedInfo {
  span: Span;
  message: string;
}

export interface Diagnostic {
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
  readonly span: Span;
  readonly related?: RelatedInfo[];
  /** The replacement a "did you mean" refers to, for editors. */
  readonly suggestion?: string;
}

export function format(template: string, args: readonly (string | number)[]): string {
  return template.replace(/\{\{|\}\}|\{(\d+)\}/g, (m, i: string | undefined) =>
    m === "{{" ? "{" : m === "}}" ? "}" : String(args[Number(i)] ?? m),
  );
}

export function diagnostic(
  entry: CatalogEntry,
  span: Span,
  args: readonly (string | number)[] = [],
  extra: { related?: RelatedInfo[]; suggestion?: string } = {},
): Diagnostic {
  return { code: entry.code, severity: entry.severity, message: format(entry.message, args), span, ...extra };
}

/** " Did you mean 'x'?" or "" — appended to messages that name a misspelt thing. */
export function didYouMean(suggestion: string | undefined): string {
  return suggestion === undefined ? "" : ` Did you mean '${suggestion}'?`;
}

/** `file:line:col: error BDL0xx: message` — the one-line form that `bdlc check` prints. */
export function renderLine(d: Diagnostic): string {
  const { line, column } = lineCol(d.span.source, d.span.start);
  return `${d.span.source.path}:${line}:${column}: ${d.severity} ${d.code}: ${d.message}`;
}

/** The one-line form followed by a code frame with the span underlined. */
export function renderWithFrame(d: Diagnostic): string {
  const { line, column } = lineCol(d.span.source, d.span.start);
  const text = lineText(d.span.source, line);
  const end = lineCol(d.span.source, d.span.end);
  const width = end.line === line ? Math.max(1, end.column - column) : Math.max(1, text.length - column + 1);
  const gutter = String(line).length;
  const shown = text.length > 200 ? text.slice(0, 200) + "…" : text;
  const lines = [
    renderLine(d),
    `${" ".repeat(gutter)} |`,
    `${line} | ${shown}`,
    `${" ".repeat(gutter)} | ${" ".repeat(Math.min(column - 1, 200))}${"^".repeat(Math.min(width, 200))}`,
  ];
  for (const r of d.related ?? []) {
    const at = lineCol(r.span.source, r.span.start);
    lines.push(`  ${r.span.source.path}:${at.line}:${at.column}: ${r.message}`);
  }
  return lines.join("\n");
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Sort by file, then position, so output is stable whatever order the phases found them in. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort(
    (a, b) => a.span.source.path.localeCompare(b.span.source.path) || a.span.start - b.span.start || a.code.localeCompare(b.code),
  );
}
