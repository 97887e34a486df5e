/**
 * Errors that are the machine's, not bdl's: a full disk, a read-only or forbidden folder, memory
 * that cannot be allocated. They get one sentence saying what failed and where (exit 1), not an
 * "internal error" (exit 2, which means a bug in bdl).
 */

const DISK_PROBLEMS: Readonly<Record<string, string>> = {
  ENOSPC: "no space left on the device",
  EDQUOT: "the disk quota is exhausted",
  EROFS: "the file system is read-only",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EIO: "an input/output error on the device",
  EMFILE: "too many open files",
  ENFILE: "too many open files on the system",
};

const DOING: Readonly<Record<string, string>> = {
  open: "opening",
  write: "writing",
  read: "reading",
  rename: "renaming",
  mkdir: "creating the folder",
  rmdir: "removing the folder",
  unlink: "removing",
  fsync: "flushing",
  copyfile: "copying",
  scandir: "listing",
};

/** A sentence for an operating-system error from the file system (ENOSPC, EROFS, EACCES, …), or null for any other error. */
export function diskErrorMessage(e: unknown): string | null {
  const problem = diskProblem(e);
  if (problem === null) return null;
  const err = e as NodeJS.ErrnoException;
  const doing = err.syscall ? (DOING[err.syscall] ?? err.syscall) : "accessing";
  const dest = (err as { dest?: unknown }).dest;
  const where = err.path ? ` ${err.path}${typeof dest === "string" ? ` to ${dest}` : ""}` : "";
  return `${doing}${where} failed: ${problem}`;
}

/** What is wrong with the disk, as in "no space left on the device (ENOSPC)", or null when `e` is not a disk problem. */
export function diskProblem(e: unknown): string | null {
  const err = e as NodeJS.ErrnoException | null;
  if (typeof err !== "object" || err === null || typeof err.code !== "string") return null;
  const problem = DISK_PROBLEMS[err.code];
  return problem === undefined ? null : `${problem} (${err.code})`;
}

/** Whether `e` is the JavaScript engine refusing an allocation (a typed array or buffer too large for this machine). */
export function isAllocationFailure(e: unknown): boolean {
  return (
    e instanceof RangeError &&
    /allocation failed|Invalid typed array length|Invalid array buffer length|Array buffer allocation|Invalid array length/i.test(e.message)
  );
}
