// The plan's local_file and local_sensitive_file resources written as Terraform's local provider
// writes them: at `filename` relative to the stack's working directory, with the plan's content and
// permissions, so that containers bind-mount them as they would after `terraform apply`.
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/** A container's host path naming a local file of the plan: ${abspath(local_file.<id>.filename)}. */
const FILE_REFERENCE = /^\$\{abspath\((local_file|local_sensitive_file)\.([\w-]+)\.filename\)\}$/;

export interface LocalFileReference {
  readonly type: "local_file" | "local_sensitive_file";
  readonly id: string;
}

export function localFileReference(hostPath: string): LocalFileReference | undefined {
  const match = FILE_REFERENCE.exec(hostPath);
  return match ? { type: match[1] as LocalFileReference["type"], id: match[2] } : undefined;
}

/**
 * A string of the plan as Terraform renders it: the test's passwords for random_password results,
 * "$${" and "%%{" unescaped; any other template sequence fails instead of being written as is.
 */
export function terraformString(text: string, password: (resourceId: string) => string): string {
  return text.replace(/\$\$\{|%%\{|\$\{([^}]*)\}|%\{/g, (sequence, reference?: string) => {
    if (sequence === "$${") return "${";
    if (sequence === "%%{") return "%{";
    const match = /^random_password\.([\w-]+)\.result$/.exec(reference ?? "");
    if (!match) throw new Error(`"${sequence}" is a template this test does not render`);
    return password(match[1]);
  });
}

/** The local provider's default when the plan sets no permission. */
const DEFAULT_PERMISSION = "0777";

/** Writes the referenced file under `stackDir` (which stands for the stack's working directory); answers its absolute path. */
export function writeLocalFile(
  stackDir: string,
  resources: Record<string, Record<string, any>>,
  reference: LocalFileReference,
  password: (resourceId: string) => string,
): string {
  const name = `${reference.type}.${reference.id}`;
  const resource = resources[reference.type]?.[reference.id];
  if (!resource) throw new Error(`${name} is not in the plan`);
  const file = path.resolve(stackDir, resource.filename);
  const relative = path.relative(stackDir, file);
  if (relative.startsWith("..") || path.isAbsolute(relative)) {
    throw new Error(`${name}: filename "${resource.filename}" is outside the stack's directory; this test writes only inside it`);
  }
  let content: string;
  try {
    content = terraformString(resource.content, password);
  } catch (error) {
    throw new Error(`${name}: content: ${(error as Error).message}`);
  }
  const fileMode = parseInt(resource.file_permission ?? DEFAULT_PERMISSION, 8);
  mkdirSync(path.dirname(file), { recursive: true, mode: parseInt(resource.directory_permission ?? DEFAULT_PERMISSION, 8) });
  writeFileSync(file, content);
  chmodSync(file, fileMode); // exactly the plan's mode, whatever this process's umask
  return file;
}
