// One run of the Docker suite at a time on a machine: two would fight over container names, the
// services' fixed ports and the fixture's daemon. The lock is a file holding the runner's pid; a
// lock whose process is gone is taken over.
import { openSync, readFileSync, rmSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

const LOCK_FILE = path.join(tmpdir(), "acgs-docker-e2e.lock");

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as { code?: string }).code === "EPERM";
  }
}

/** Takes the lock for this process; returns the pid of another live holder instead when there is one. */
export function takeSuiteLock(): number | undefined {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(LOCK_FILE, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return undefined;
    } catch (error) {
      if ((error as { code?: string }).code !== "EEXIST") throw error;
    }
    const holder = Number(readFileSync(LOCK_FILE, "utf8").trim());
    if (holder === process.pid) return undefined;
    if (Number.isInteger(holder) && holder > 0 && alive(holder)) return holder;
    rmSync(LOCK_FILE, { force: true }); // its process is gone
  }
  throw new Error(`could not take ${LOCK_FILE}`);
}

export function releaseSuiteLock(): void {
  try {
    if (Number(readFileSync(LOCK_FILE, "utf8").trim()) === process.pid) rmSync(LOCK_FILE, { force: true });
  } catch {
    // already gone
  }
}
