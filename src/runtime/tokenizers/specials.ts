/**
 * Special tokens: which surface form each role (pad, unk, cls, sep, mask, bos, eos) takes in a
 * tokenizer family, and the reverse, recovering roles from a tokenizer.json's added tokens.
 *
 * Surface forms follow the Hugging Face families:
 * - wordpiece and sentencepiece (BERT, ALBERT): `[PAD] [UNK] [CLS] [SEP] [MASK]`; `bos`/`eos` are
 *   `[CLS]`/`[SEP]` when they share those ids, otherwise `[BOS]`/`[EOS]`.
 * - bpe (RoBERTa): `<s> <pad> </s> <unk> <mask>`; `cls`/`sep` are `<s>`/`</s>` unless the model
 *   gives them ids different from `bos`/`eos`, in which case they are `<cls>`/`<sep>`.
 * - any other role `r`: `[R]` (wordpiece, sentencepiece) or `<r>` (bpe).
 */
import type { SpecialRole, TokenizerKind } from "../../model/model.js";
import { TokenizerTrainingError } from "./errors.js";

/** One special token: its id, surface form, and the roles it plays. */
export interface SpecialToken {
  id: number;
  content: string;
  roles: string[];
}

/** The surface form of `role` in a `kind` tokenizer whose roles have the ids `special`. */
export function specialSurface(kind: TokenizerKind, role: string, special: Record<string, number>): string {
  const bpe = kind === "bpe";
  switch (role) {
    case "pad":
      return bpe ? "<pad>" : "[PAD]";
    case "unk":
      return bpe ? "<unk>" : "[UNK]";
    case "mask":
      return bpe ? "<mask>" : "[MASK]";
    case "cls":
      if (!bpe) return "[CLS]";
      return special.bos === undefined || special.bos === special.cls ? "<s>" : "<cls>";
    case "sep":
      if (!bpe) return "[SEP]";
      return special.eos === undefined || special.eos === special.sep ? "</s>" : "<sep>";
    case "bos":
      if (bpe) return "<s>";
      return special.cls === special.bos ? "[CLS]" : "[BOS]";
    case "eos":
      if (bpe) return "</s>";
      return special.sep === special.eos ? "[SEP]" : "[EOS]";
    default:
      return bpe ? `<${role}>` : `[${role.toUpperCase()}]`;
  }
}

/** Roles listed first are named first in messages and keep a stable order. */
const ROLE_ORDER: readonly SpecialRole[] = ["cls", "sep", "bos", "eos", "pad", "unk", "mask"];

function roleRank(role: string): number {
  const i = ROLE_ORDER.findIndex((r) => r === role);
  return i < 0 ? ROLE_ORDER.length : i;
}

/**
 * The special tokens of a `kind` tokenizer with `vocabSize` ids, sorted by id. Throws
 * {@link TokenizerTrainingError} when an id is not an integer in [0, vocabSize), when two roles
 * share an id but need different surface forms, or when one surface form gets two ids.
 */
export function specialTokenLayout(kind: TokenizerKind, special: Record<string, number>, vocabSize: number): SpecialToken[] {
  const roles = Object.keys(special).sort((a, b) => roleRank(a) - roleRank(b) || (a < b ? -1 : a > b ? 1 : 0));
  const byId = new Map<number, SpecialToken>();
  const bySurface = new Map<string, SpecialToken>();
  for (const role of roles) {
    const id = special[role]!;
    if (!Number.isInteger(id) || id < 0) {
      throw new TokenizerTrainingError(`special token ${role} has id ${id}; ids are integers from 0`);
    }
    if (id >= vocabSize) {
      throw new TokenizerTrainingError(`special token ${role} has id ${id}, outside the vocab of ${vocabSize} (ids 0..${vocabSize - 1})`);
    }
    const content = specialSurface(kind, role, special);
    const atId = byId.get(id);
    if (atId !== undefined) {
      if (atId.content !== content) {
        throw new TokenizerTrainingError(
          `special tokens ${atId.roles[0]} and ${role} share id ${id}, but a ${kind} tokenizer writes them as different tokens (${atId.content}, ${content})`,
        );
      }
      atId.roles.push(role);
      continue;
    }
    const withSurface = bySurface.get(content);
    if (withSurface !== undefined) {
      throw new TokenizerTrainingError(
        `special tokens ${withSurface.roles[0]} (id ${withSurface.id}) and ${role} (id ${id}) are both ${content} in a ${kind} tokenizer, so they need the same id`,
      );
    }
    const token: SpecialToken = { id, content, roles: [role] };
    byId.set(id, token);
    bySurface.set(content, token);
  }
  return [...byId.values()].sort((a, b) => a.id - b.id);
}

const KNOWN_SURFACES: Record<string, string> = {
  "[PAD]": "pad",
  "<pad>": "pad",
  "[UNK]": "unk",
  "<unk>": "unk",
  "[CLS]": "cls",
  "<cls>": "cls",
  "[SEP]": "sep",
  "<sep>": "sep",
  "[MASK]": "mask",
  "<mask>": "mask",
  "<s>": "bos",
  "[BOS]": "bos",
  "</s>": "eos",
  "[EOS]": "eos",
};

/**
 * The role a special token's surface form stands for: the forms above (and Hugging Face's
 * `<pad>`, `<unk>` in ALBERT), or `r` for `[R]` / `<r>`; undefined for anything else.
 */
export function roleOfSurface(content: string): string | undefined {
  if (Object.hasOwn(KNOWN_SURFACES, content)) return KNOWN_SURFACES[content];
  const bracket = /^\[([A-Z][A-Z0-9_]*)\]$/.exec(content);
  if (bracket) return bracket[1]!.toLowerCase();
  const angle = /^<([a-z][a-z0-9_]*)>$/.exec(content);
  if (angle) return angle[1];
  return undefined;
}
