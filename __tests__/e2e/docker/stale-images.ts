// Keeps the fixture's engine from filling the disk run after run: images of earlier source hashes
// go, and so do untagged build stages older than a day (younger ones are the build cache).
import { engineCall, engineRequest } from "./engine-api";

export async function removeStaleImages(host: string, repositoryPrefix: string, keepTags: readonly string[]): Promise<string[]> {
  const images = (await engineCall(host, "GET", "/images/json")).json<{ Id: string; RepoTags: string[] | null }[]>();
  const stale = images.flatMap((i) => (i.RepoTags ?? []).filter((t) => t.startsWith(repositoryPrefix) && !keepTags.includes(t)));
  // An image still used by a container stays (409); the next run tries again.
  for (const tag of stale) await engineRequest(host, "DELETE", `/images/${encodeURIComponent(tag)}`);
  const filters = encodeURIComponent(JSON.stringify({ dangling: ["true"], until: ["24h"] }));
  await engineCall(host, "POST", `/images/prune?filters=${filters}`);
  return stale;
}
