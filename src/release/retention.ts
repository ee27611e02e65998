// Which dev tags have outlived the retention period. A tag is a candidate only if it matches the
// target's testing template, so release tags and foreign tags are never touched.

/** A regex matching tags made from a template, capturing the timestamp. */
export function templatePattern(template: string, values: Record<string, string | undefined>): RegExp | undefined {
  if (!template.includes("{timestamp}")) return undefined;
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const parts = template.split(/(\{\w+\})/).map((part) => {
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (!name) return escape(part);
    if (name === "timestamp") return "(\\d{12})";
    return escape(values[name] ?? "");
  });
  return new RegExp(`^${parts.join("")}$`);
}

export function expiredTags(tags: readonly string[], pattern: RegExp, now: Date, days: number): string[] {
  const cutoff = now.getTime() - days * 86_400_000;
  return tags
    .filter((tag) => {
      const ts = pattern.exec(tag)?.[1];
      if (!ts) return false;
      const t = Date.UTC(+ts.slice(0, 4), +ts.slice(4, 6) - 1, +ts.slice(6, 8), +ts.slice(8, 10), +ts.slice(10, 12));
      return t < cutoff;
    })
    .sort();
}
