// The files a container of the plan gets from local files, and what the container itself sees of
// them: a shell run as its user on its read-only root prints each file's mode and content, whether
// writing it fails, and the mount table, for a test to compare with the plan byte for byte.
import { localFileReference, terraformString } from "./local-files";

export interface MountedFile {
  /** Where the container sees the file. */
  readonly path: string;
  /** Octal, as `stat -c %a` prints it. */
  readonly mode: string;
  readonly content: string;
}

export interface SeenFile extends MountedFile {
  /** What writing the file answered ("written" when it could). */
  readonly write: string;
  /** The mount's own options in /proc/self/mountinfo; undefined when nothing is mounted there. */
  readonly mountOptions: string | undefined;
}

/** The plan's files mounted into the container from its local files, as Terraform writes them. */
export function mountedFiles(container: any, resources: Record<string, Record<string, any>>, password: (id: string) => string): MountedFile[] {
  return ((container.volumes ?? []) as any[]).flatMap((v) => {
    const reference = localFileReference(v.host_path ?? "");
    const resource = reference && resources[reference.type]?.[reference.id];
    if (!resource) return [];
    const mode = parseInt(resource.file_permission ?? "0777", 8).toString(8);
    return [{ path: v.container_path, mode, content: terraformString(resource.content, password) }];
  });
}

/** `sh -c SHOW_FILES sh <path>...`: reads each file before trying to write it (a truncating open, which a read-only mount refuses first). */
export const SHOW_FILES = `
printf 'user\\t%s:%s\\n' "$(id -u)" "$(id -g)"
for f in "$@"; do
  mode=$(stat -c %a "$f" 2>&1)
  content=$(base64 -w0 "$f" 2>&1) || content="! $content"
  write=$( (: > "$f") 2>&1 ) && write=written
  printf 'file\\t%s\\t%s\\t%s\\t%s\\n' "$f" "$mode" "$write" "$content"
done
sed 's/^/mount\\t/' /proc/self/mountinfo
`;

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescapeMountPath(text: string): string {
  return text.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** The bytes as text when they are exactly some UTF-8 text (what the plan's content is written as). */
function utf8Text(bytes: Buffer): string {
  const text = bytes.toString("utf8");
  return Buffer.from(text, "utf8").equals(bytes) ? text : `<not UTF-8: ${bytes.length} bytes>`;
}

export function parseShownFiles(output: string): { user: string | undefined; files: SeenFile[] } {
  const lines = output.split("\n").map((line) => line.split("\t"));
  const mountOptions = new Map<string, string>();
  for (const [kind, info] of lines) {
    // "36 35 98:0 /root /mount/point ro,relatime ..." : the fifth field is where, the sixth the mount's options.
    if (kind === "mount") {
      const fields = info.split(" ");
      mountOptions.set(unescapeMountPath(fields[4]), fields[5]);
    }
  }
  const files = lines
    .filter(([kind]) => kind === "file")
    .map(([, path, mode, write, content]) => ({
      path,
      mode,
      content: content.startsWith("! ") ? `<unreadable: ${content.slice(2)}>` : utf8Text(Buffer.from(content, "base64")),
      write,
      mountOptions: mountOptions.get(path),
    }));
  return { user: lines.find(([kind]) => kind === "user")?.[1], files };
}
