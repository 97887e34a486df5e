/**
 * What the schema says about a property, as short text for hovers and completions: what it
 * accepts, its default, and the words it takes. Everything is read off schema.ts, the one
 * table of properties, so a property added there is documented here with no change.
 */
import type { WordLit } from "../compiler/syntax/ast.js";
import { OBJECTIVES, ownEntry, PROPERTIES, REQUIRED_PROPERTIES, type Property, type PropertyType } from "../compiler/semantics/schema.js";
import { spanOf } from "../compiler/source.js";

/** The schema entry of a property path ("hidden", "masking.unit", "objectives.distill.temperature"). */
export function propertyAt(path: string): Property | undefined {
  const direct = PROPERTIES.get(path);
  if (direct) return direct;
  const [head, objective, option] = path.split(".");
  if (head !== "objectives" || objective === undefined || option === undefined) return undefined;
  const options = ownEntry<Readonly<Record<string, Property>>>(OBJECTIVES, objective);
  return options ? ownEntry(options, option) : undefined;
}

/** A default as `.bdl` text: `none`, `0.1`, `ngram 3`. */
export function defaultText(value: unknown): string {
  if (value === null) return "none";
  if (typeof value === "object" && value !== null && "word" in value) {
    const { word, argument } = value as { word: string; argument: number | null };
    return argument === null ? word : `${word} ${argument}`;
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

/** "an integer ≥ 1; default 256", or that a model must set it. */
export function describeProperty(path: string, p: Property): string {
  const tail =
    "default" in p
      ? `default \`${defaultText(p.default)}\``
      : REQUIRED_PROPERTIES.includes(path)
        ? "required: the model or a model it extends must set it"
        : "no default";
  return `${p.type.describe}; ${tail}`;
}

const probeSource = { path: "", text: "" };

function word(text: string): WordLit {
  const span = spanOf(probeSource, 0, 0);
  return { kind: "Word", name: { text, span }, argument: null, span };
}

/**
 * The words a property accepts, asked of its type: reading a word that is no word of the
 * language (`?`) makes a word type list its options, and `none` is tried on its own since
 * the optional sizes accept it beside numbers. Numeric types list nothing.
 */
export function valueWords(type: PropertyType): string[] {
  const words: string[] = [];
  const probe = type.read(word("?"));
  if (!probe.ok && probe.problem.kind === "unknown") words.push(...probe.problem.options);
  const none = type.read(word("none"));
  if (none.ok && !words.includes("none")) words.push("none");
  return words;
}
