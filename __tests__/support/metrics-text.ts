// Reads samples out of Prometheus text format, so tests assert on values, not on substrings.

/**
 * The sum of the samples of `name` whose labels include `labels` (a subset match), or undefined
 * when there is none.
 */
export function metricSample(text: string, name: string, labels: Readonly<Record<string, string>> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const found: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) found[l[1]] = l[2];
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}
