/** The CLI run in this process, as an editor or a shell would see it: exit code, standard output and standard error. */
import * as fs from "node:fs";
import { main } from "../../src/cli/cli.js";

export async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (t) => void out.push(t), err: (t) => void err.push(t), isTerminal: false });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** Writes to `target` the tokenizer.json `source` with one more special token: a vocabulary one larger than the model's. */
export function tokenizerWithOneMoreToken(source: string, target: string): void {
  const t = JSON.parse(fs.readFileSync(source, "utf8"));
  const id =
    Math.max(...(t.added_tokens as { id: number }[]).map((a) => a.id), ...Object.values(t.model.vocab as Record<string, number>)) + 1;
  t.added_tokens.push({ id, content: "[EXTRA]", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  fs.writeFileSync(target, JSON.stringify(t));
}
