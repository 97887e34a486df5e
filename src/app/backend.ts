/**
 * Making a backend the active one. The runtime's backend module is imported only here, when a
 * command reaches tensor work, so that commands which never touch tensors do not load it.
 */
import { InputError } from "./input-error.js";

/** Makes `flag` (a --backend value; `auto` when not given) the active backend; returns its name. */
export async function startBackend(flag: string | undefined): Promise<string> {
  const backends = await import("../runtime/backends/backend.js");
  const name = (flag ?? "auto") as import("../runtime/backends/backend.js").BackendName;
  if (!backends.BACKENDS.includes(name)) throw new InputError(`--backend must be one of ${backends.BACKENDS.join(", ")}, not '${flag}'.`);
  try {
    return await backends.useBackend(name);
  } catch (e) {
    if (e instanceof backends.BackendError) throw new InputError(e.message);
    throw e;
  }
}
