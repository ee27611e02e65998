// Which dev tags have outlived the retention period. A tag is a candidate only if it has the
// shape of the target's testing template, so release tags and foreign tags are never touched.
//
// The shape, not this run's values: {image}, {major}, {distro} and {flavour} are fixed to the
// target's, while {version}, {versions} and {revision} match any value they can take, so the dev
// tags of 17.8 still expire once the matrix pins 17.9.

// A PostgreSQL version as tags write it ("~" dropped): 17.9, 19beta1.
const VERSION_TAIL = "(?:\\.\\d+|(?:alpha|beta|rc)\\d+)";
const ANY_VERSION = `\\d+${VERSION_TAIL}`;

/** A regex matching every tag the template makes for this target's image, major and distro, capturing the timestamp. */
export function templatePattern(template: string, values: Record<string, string | undefined>): RegExp | undefined {
  if (!template.includes("{timestamp}")) return undefined;
  const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const major = values.major;
  let captured = false;
  const parts = template.split(/(\{\w+\})/).map((part) => {
    const name = /^\{(\w+)\}$/.exec(part)?.[1];
    if (!name) return escape(part);
    switch (name) {
      case "timestamp": {
        // Later occurrences must repeat the first.
        const group = captured ? "\\1" : "(\\d{12})";
        captured = true;
        return group;
      }
      case "version":
        return major === undefined ? ANY_VERSION : `${escape(major)}${VERSION_TAIL}`;
      case "versions":
        return `${ANY_VERSION}(?:-${ANY_VERSION})*`;
      case "revision":
      case "shortrevision":
        return "[0-9A-Za-z._-]{1,64}";
      default:
        return escape(values[name] ?? "");
    }
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

/**
 * Where testing and release tags share a repository, a registry deletes a manifest with every tag
 * on it: an expired dev tag whose digest a kept tag also holds (the release promoted from it) is
 * kept, with that tag named. `digests` maps every tag of the repository to its digest.
 */
export function spareSharedDigests(expired: readonly string[], digests: ReadonlyMap<string, string | undefined>): { expired: string[]; kept: { tag: string; heldBy: string }[] } {
  const gone = new Set(expired);
  const holders = new Map<string, string>();
  for (const [tag, digest] of [...digests].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (digest !== undefined && !gone.has(tag) && !holders.has(digest)) holders.set(digest, tag);
  }
  const kept = expired.flatMap((tag) => {
    const heldBy = holders.get(digests.get(tag) ?? "");
    return heldBy === undefined ? [] : [{ tag, heldBy }];
  });
  return { expired: expired.filter((t) => !kept.some((k) => k.tag === t)), kept };
}

/** What happened to one reference (a tag, or a repository that could not be listed). */
export interface RetentionOutcome {
  ref: string;
  /**
   * "already gone": the tag vanished before its delete (another run, or a digest it shared).
   * "kept": expired, but its digest carries a tag that is not (see spareSharedDigests).
   */
  status: "would delete" | "deleted" | "already gone" | "failed" | "kept";
  error?: string;
  /** kept: the tag that holds the same digest. */
  heldBy?: string;
}

/**
 * The whole account of a retention run: every reference with what happened to it, failures
 * included, and whether all went well. Nothing already deleted goes unmentioned.
 */
export function retentionReport(outcomes: readonly RetentionOutcome[], days: number): { text: string; ok: boolean } {
  if (outcomes.length === 0) return { text: `no dev tags older than ${days} days\n`, ok: true };
  const lines = outcomes.map((o) =>
    o.status === "failed" ? `failed ${o.ref}: ${o.error ?? "unknown error"}` : o.status === "kept" ? `kept ${o.ref}: its digest is also tagged ${o.heldBy ?? "?"}` : `${o.status} ${o.ref}`,
  );
  const failed = outcomes.filter((o) => o.status === "failed").length;
  if (failed > 0) {
    const deleted = outcomes.filter((o) => o.status === "deleted").length;
    lines.push(`retention: ${failed} failed, ${deleted} deleted`);
  }
  return { text: lines.join("\n") + "\n", ok: failed === 0 };
}
