/**
 * Writing Python source: literals that are the only form in which text from a .bdl file may
 * reach emitted Python, and a line writer with indentation.
 */

/**
 * `value` as a Python literal: strings in double quotes with every character outside
 * printable ASCII, the quote and the backslash escaped (JSON's escapes are Python's, and
 * `\uXXXX` covers the rest), so nothing in them can end the string, start a line or be read
 * as code; numbers as JavaScript prints them (Python reads the same); true/false/null as
 * True/False/None; arrays as lists and objects as dicts.
 */
export function pyLiteral(value: unknown, indent = 0, step = 4): string {
  if (value === null || value === undefined) return "None";
  if (value === true) return "True";
  if (value === false) return "False";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) throw new Error(`internal error: ${value} has no Python literal here`);
    return String(value);
  }
  if (typeof value === "string") return pyString(value);
  const pad = " ".repeat(indent + step);
  const close = " ".repeat(indent);
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    const items = value.map((v) => pyLiteral(v, indent + step, step));
    const flat = `[${items.join(", ")}]`;
    if (flat.length <= 80 && !flat.includes("\n")) return flat;
    return `[\n${items.map((i) => `${pad}${i},`).join("\n")}\n${close}]`;
  }
  if (typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return "{}";
    const items = entries.map(([k, v]) => `${pyString(k)}: ${pyLiteral(v, indent + step, step)}`);
    const flat = `{${items.join(", ")}}`;
    if (flat.length <= 80 && !flat.includes("\n")) return flat;
    return `{\n${items.map((i) => `${pad}${i},`).join("\n")}\n${close}}`;
  }
  throw new Error(`internal error: no Python literal for a ${typeof value}`);
}

function pyString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (code >= 0x20 && code < 0x7f) out += ch;
    else if (code <= 0xffff) out += `\\u${code.toString(16).padStart(4, "0")}`;
    else out += `\\U${code.toString(16).padStart(8, "0")}`;
  }
  return out + '"';
}

/** Python source, a line at a time, indented by four spaces per block. */
export class PythonWriter {
  private readonly lines: string[] = [];
  private depth = 0;

  line(text = ""): this {
    this.lines.push(text === "" ? "" : "    ".repeat(this.depth) + text);
    return this;
  }

  /** `header` (ending in a colon), then `body` one level deeper. */
  block(header: string, body: () => void): this {
    this.line(header);
    this.depth++;
    body();
    this.depth--;
    return this;
  }

  /** Two blank lines, as between top-level definitions. */
  gap(): this {
    while (this.lines.length > 0 && this.lines.at(-1) === "") this.lines.pop();
    this.lines.push("", "");
    return this;
  }

  text(): string {
    while (this.lines.at(-1) === "") this.lines.pop();
    return this.lines.join("\n") + "\n";
  }
}
