/** Reading a JSON file the user names; any problem is an `InputError` naming the file. */
import { FileReadError, readJsonFile as readJson } from "../io/read-file.js";
import { InputError } from "./input-error.js";

/** Reads and parses a JSON file; `what` names the file's role in a message ("inputs", …). */
export function readJsonFile(file: string, what: string): unknown {
  try {
    return readJson(file);
  } catch (e) {
    if (!(e instanceof FileReadError)) throw e;
    throw new InputError(e.position || e.reason.startsWith("not valid JSON") ? e.message : `cannot read ${what} '${file}': ${e.reason}`);
  }
}
