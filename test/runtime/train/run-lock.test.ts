/**
 * The run folder's lock, in process: it appears whole in one step, planted links are not
 * followed, a stale lock is taken over but a live one that replaced it is never removed,
 * and the helper files of dead processes are cleared.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { acquireRunLock, LOCK_FILE, removeStaleLock, RunLockError } from "../../../src/runtime/train/run-lock.js";

const folder = () => mkdtempSync(join(tmpdir(), "bdl-lock-"));
/** A PID that ran and has exited. */
const deadPid = (): number => spawnSync(process.execPath, ["-e", ""]).pid!;

describe("run lock", () => {
  it("holds this process's PID and host, leaves no temporary file, and is removed on release", () => {
    const dir = folder();
    const lock = acquireRunLock(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8"))).toMatchObject({ pid: process.pid, host: hostname() });
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    lock.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it("refuses a second lock while the first is held, naming the holder", () => {
    const dir = folder();
    const lock = acquireRunLock(dir);
    expect(() => acquireRunLock(dir)).toThrow(RunLockError);
    expect(() => acquireRunLock(dir)).toThrow(`PID ${process.pid} on ${hostname()}`);
    lock.release();
  });

  it("does not follow a link planted under its temporary name", () => {
    const dir = folder();
    const victim = join(folder(), "victim.txt");
    writeFileSync(victim, "precious\n");
    symlinkSync(victim, join(dir, `${LOCK_FILE}.tmp-${process.pid}`));
    const lock = acquireRunLock(dir);
    expect(readFileSync(victim, "utf8")).toBe("precious\n");
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")).pid).toBe(process.pid);
    lock.release();
  });

  it("takes over a lock whose process died, and says whose", () => {
    const dir = folder();
    const dead = { pid: deadPid(), host: hostname() };
    writeFileSync(join(dir, LOCK_FILE), JSON.stringify(dead));
    const lock = acquireRunLock(dir);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")).pid).toBe(process.pid);
    expect(lock.tookOverFrom).toEqual(dead);
    lock.release();
    const fresh = acquireRunLock(dir);
    expect(fresh.tookOverFrom).toBeNull();
    fresh.release();
  });

  it("never removes a live lock that replaced the stale one it judged", () => {
    const dir = folder();
    const file = join(dir, LOCK_FILE);
    const stale = { pid: deadPid(), host: hostname() };
    // Judged stale, but by the time it is moved aside a live process has locked the folder.
    const live = JSON.stringify({ pid: process.pid, host: hostname(), started: "now" });
    writeFileSync(file, live);
    expect(removeStaleLock(file, stale)).toBe(false);
    expect(readFileSync(file, "utf8")).toBe(live);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    // The stale one itself is removed.
    writeFileSync(file, JSON.stringify(stale));
    expect(removeStaleLock(file, stale)).toBe(true);
    expect(existsSync(file)).toBe(false);
  });

  it("clears the helper files of dead processes and keeps those of live ones", () => {
    const dir = folder();
    const dead = deadPid();
    for (const name of [`${LOCK_FILE}.tmp-${dead}`, `${LOCK_FILE}.stale-${dead}`, `${LOCK_FILE}.tmp-${process.ppid}`])
      writeFileSync(join(dir, name), "");
    const lock = acquireRunLock(dir);
    expect(readdirSync(dir).sort()).toEqual([LOCK_FILE, `${LOCK_FILE}.tmp-${process.ppid}`]);
    lock.release();
  });

  it("a folder it made is removed on release when only empty folders are in it; a file keeps it", () => {
    const parent = folder();
    const empty = join(parent, "empty");
    acquireRunLock(empty).release();
    expect(existsSync(empty)).toBe(false);
    const withFolders = join(parent, "folders");
    const lock = acquireRunLock(withFolders);
    mkdirSync(join(withFolders, "checkpoints", "step-1"), { recursive: true });
    lock.release();
    expect(existsSync(withFolders)).toBe(false);
    const withFile = join(parent, "file");
    const second = acquireRunLock(withFile);
    mkdirSync(join(withFile, "checkpoints"));
    writeFileSync(join(withFile, "tokenizer.json"), "{}");
    second.release();
    expect(readdirSync(withFile)).toEqual(["tokenizer.json"]);
  });

  it("a folder that existed before is never removed", () => {
    const dir = folder();
    acquireRunLock(dir).release();
    expect(existsSync(dir)).toBe(true);
  });
});
