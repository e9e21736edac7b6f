// Creates and starts a container of the stack in the provider's order: create, upload the files
// (a tar archive extracted at "/", as the provider sends them), start.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { containerCreateBody, type SpecContext } from "./container-spec";
import { engineCall } from "./engine-api";

export interface LaunchedContainer {
  readonly id: string;
  readonly name: string;
  /** The service or component (its acgs.component label). */
  readonly component: string;
  /** What the create request asked for, to compare with what the engine made. */
  readonly spec: Record<string, any>;
}

/** One file as the provider uploads it: a tar entry named by its absolute path, mode 0644. */
function uploadArchive(file: string, content: string, executable: boolean): Buffer {
  const dir = mkdtempSync(path.join(tmpdir(), "acgs-upload-"));
  try {
    const relative = file.replace(/^\/+/, "");
    mkdirSync(path.join(dir, path.dirname(relative)), { recursive: true });
    writeFileSync(path.join(dir, relative), content);
    chmodSync(path.join(dir, relative), executable ? 0o744 : 0o644);
    // Only the file, no directory entries: the engine creates missing parents, as for the provider.
    return execFileSync("tar", ["-C", dir, "--owner=0", "--group=0", "--numeric-owner", "-c", relative]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Creates the container and uploads its files; does not start it. */
export async function createContainer(host: string, container: any, context: SpecContext): Promise<LaunchedContainer> {
  const spec = containerCreateBody(container, context);
  const created = await engineCall(host, "POST", `/containers/create?name=${encodeURIComponent(container.name)}`, spec);
  const id: string = created.json().Id;
  for (const upload of (container.upload ?? []) as any[]) {
    try {
      await engineCall(host, "PUT", `/containers/${id}/archive?path=%2F`, uploadArchive(upload.file, upload.content, Boolean(upload.executable)));
    } catch (error) {
      throw new Error(`container ${container.name}: upload of ${upload.file} failed: ${(error as Error).message}`);
    }
  }
  return { id, name: container.name, component: spec.Labels["acgs.component"] ?? container.name, spec };
}

export async function launchContainer(host: string, container: any, context: SpecContext): Promise<LaunchedContainer> {
  const launched = await createContainer(host, container, context);
  await engineCall(host, "POST", `/containers/${launched.id}/start`);
  return launched;
}

/** Removes containers carrying a label (this suite's, left by an earlier run or made by this one). */
export async function removeContainers(host: string, label: string): Promise<void> {
  const filters = encodeURIComponent(JSON.stringify({ label: [label] }));
  const list = (await engineCall(host, "GET", `/containers/json?all=1&filters=${filters}`)).json<{ Id: string }[]>();
  await Promise.all(list.map((c) => engineCall(host, "DELETE", `/containers/${c.Id}?force=1&v=1`)));
}
