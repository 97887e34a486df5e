/**
 * One training at a time per run folder. `run.lock` appears atomically (written aside, then
 * hard-linked into place) and holds the owner's PID and host; a second `bdlc train` into the
 * same folder is refused instead of interleaving the log and replacing the other's checkpoints. A lock left by a process that
 * died (kill -9, power loss) names a PID that no longer runs on this host: it is stale and is
 * taken over. A lock from another host cannot be checked, so it is respected.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { diskProblem } from "../system-error.js";

export const LOCK_FILE = "run.lock";

/** The folder is in use by a live process, or the lock cannot be made: the message says which and why. */
export class RunLockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RunLockError";
  }
}

export interface LockOwner {
  pid: number;
  host: string;
}

/** Whether process `pid` exists on this machine (EPERM: it exists but belongs to another user). */
export function processIsAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readOwner(file: string): LockOwner | null {
  try {
    const owner = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<LockOwner>;
    return typeof owner.pid === "number" && typeof owner.host === "string" ? { pid: owner.pid, host: owner.host } : null;
  } catch {
    return null; // unreadable or cut short while being written: judged by its age below
  }
}

export interface RunLock {
  /** Removes the lock (and the folder, if the lock made it and no file was written there). */
  release(): void;
  /** The dead process whose lock this one replaced, if any: worth a line to the user. */
  readonly tookOverFrom: LockOwner | null;
}

/**
 * Locks run folder `dir` (made if missing) for this process. Throws RunLockError when a live
 * process holds it, naming the folder, the PID and the host.
 */
export function acquireRunLock(dir: string): RunLock {
  const madeFolder = !fs.existsSync(dir);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new RunLockError(
      code === "EEXIST" || code === "ENOTDIR"
        ? `${dir} exists and is not a folder: give --out a folder`
        : `cannot create the run folder ${dir}: ${diskProblem(e) ?? code ?? (e as Error).message}`,
    );
  }
  const file = path.join(dir, LOCK_FILE);
  const removeIfMadeAndEmpty = () => {
    if (madeFolder) removeEmptyFolders(dir); // a refused command leaves nothing behind
  };
  const me: LockOwner = { pid: process.pid, host: os.hostname() };
  const content = JSON.stringify({ ...me, started: new Date().toISOString() }) + "\n";
  // Two tries: the second after moving a stale lock aside. If another process took the stale
  // lock over in between, the second link fails and that live process is named.
  let tookOverFrom: LockOwner | null = null;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      publishLock(file, content);
      break;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "EEXIST") {
        removeIfMadeAndEmpty();
        throw new RunLockError(
          `cannot lock the run folder ${dir}: creating ${file} failed: ${diskProblem(e) ?? code ?? (e as Error).message}`,
        );
      }
      const owner = readOwner(file);
      if (attempt === 0 && isStale(file, owner, me.host) && removeStaleLock(file, owner)) {
        tookOverFrom = owner;
        continue;
      }
      removeIfMadeAndEmpty();
      throw new RunLockError(
        owner
          ? `${dir} is in use by another training (PID ${owner.pid} on ${owner.host}, see ${file}); wait for it to finish or use another --out (if that process is not a training, remove ${file})`
          : `${dir} is being locked by another training (${file}); wait for it or use another --out`,
      );
    }
  }
  removeDeadHelpers(dir);
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    process.off("exit", release);
    const owner = readOwner(file);
    if (owner && owner.pid === me.pid && owner.host === me.host) fs.rmSync(file, { force: true });
    removeIfMadeAndEmpty();
  };
  // process.exit (a second Ctrl-C) skips `finally` blocks but runs 'exit' listeners.
  process.on("exit", release);
  return { release, tookOverFrom };
}

/**
 * Creates `file` holding `content`, or throws EEXIST when it exists. The content is written to
 * a private temporary file first and hard-linked into place, so the lock appears whole in
 * one step: no other process ever reads it empty or cut short. Where the file system has no
 * hard links, an exclusive create is the fallback.
 */
function publishLock(file: string, content: string): void {
  const temporary = `${file}.tmp-${process.pid}`;
  // Exclusive: a link planted under this name is not followed. One left by an earlier
  // process with this PID (it died between write and link) is removed first.
  fs.rmSync(temporary, { force: true });
  fs.writeFileSync(temporary, content, { flag: "wx", mode: 0o644 });
  try {
    fs.linkSync(temporary, file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw e;
    const fd = fs.openSync(file, "wx"); // EEXIST propagates, as from the link
    try {
      fs.writeFileSync(fd, content);
    } finally {
      fs.closeSync(fd);
    }
  } finally {
    fs.rmSync(temporary, { force: true });
  }
}

/**
 * Removes a stale lock without ever removing a live one: the lock is first renamed aside (one
 * atomic step, so two processes cannot both take it), then what was renamed is compared with
 * the stale owner that was judged. If a live process replaced the lock in between, its lock is
 * linked back and false is returned.
 */
export function removeStaleLock(file: string, judged: LockOwner | null): boolean {
  const aside = `${file}.stale-${process.pid}`;
  try {
    fs.renameSync(file, aside);
  } catch {
    return true; // gone already: someone else removed it; the next link decides who wins
  }
  const taken = readOwner(aside);
  const same = judged === null ? taken === null : taken !== null && taken.pid === judged.pid && taken.host === judged.host;
  if (!same) {
    try {
      fs.linkSync(aside, file); // give the live lock back
    } catch {
      // a third process locked in between: it holds the folder now, and is named next
    }
    fs.rmSync(aside, { force: true });
    return false;
  }
  fs.rmSync(aside, { force: true });
  return true;
}

/**
 * Removes `dir` if it holds nothing but empty folders (such as the `checkpoints/` a run
 * makes before its first step): a file anywhere keeps it and the folders above that file.
 */
function removeEmptyFolders(dir: string): void {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return; // gone, or not ours to read
  }
  for (const e of entries) if (e.isDirectory()) removeEmptyFolders(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir); // only when empty
  } catch {
    // something was written there: keep it
  }
}

/** Removes `run.lock.tmp-PID` and `run.lock.stale-PID` files whose process died before it removed them. */
function removeDeadHelpers(dir: string): void {
  for (const name of fs.readdirSync(dir)) {
    const m = /^run\.lock\.(?:tmp|stale)-(\d+)$/.exec(name);
    if (m && Number(m[1]) !== process.pid && !processIsAlive(Number(m[1]))) fs.rmSync(path.join(dir, name), { force: true });
  }
}

/** A lock is stale when its PID is dead on this host, or when it is unreadable and older than a minute (its writer died mid-write). */
function isStale(file: string, owner: LockOwner | null, host: string): boolean {
  if (owner) return owner.host === host && !processIsAlive(owner.pid);
  try {
    return Date.now() - fs.statSync(file).mtimeMs > 60_000;
  } catch {
    return true; // gone already
  }
}
