// Tag templates → tags. The defaults per kind live in kinds.ts and follow what users' tooling
// already parses (see README).
import type { PgVersion, Tags, Target } from "./types.js";

export interface TagTemplates {
  testing: string;
  release: string;
  aliases: string[];
  /** More aliases for the targets on a distro, after `aliases`. */
  distroAliases?: Record<string, string[]> | undefined;
  /** Whether a preview major gets the aliases too. */
  previewAliases?: boolean | undefined;
}

export interface TagValues {
  image: string;
  postgres: PgVersion[];
  distro?: string | undefined;
  flavour?: string | undefined;
  timestamp: string;
  revision: string;
}

/**
 * Render every template: the aliases, then the target's distro's extra aliases. A preview major
 * gets none unless the templates ask for them (previewAliases).
 */
export function renderTags(t: TagTemplates, v: TagValues, preview: boolean): Tags {
  const render = (template: string) => renderTag(template, v);
  const aliases = preview && !t.previewAliases ? [] : [...t.aliases, ...((v.distro !== undefined && t.distroAliases?.[v.distro]) || [])];
  return { testing: render(t.testing), release: render(t.release), aliases: aliases.map(render) };
}

// "~" (Debian's pre-release marker) is not allowed in a tag, and CloudNativePG and the-process
// both drop it: 19~beta1 → 19beta1.
export const tagVersion = (p: Pick<PgVersion, "version">) => p.version.replace("~", "");

/** A full commit SHA (SHA-1 or SHA-256) shortened to git's 7 characters; any other revision as given. */
export function shortRevision(revision: string): string {
  return /^([0-9a-f]{40}|[0-9a-f]{64})$/.test(revision) ? revision.slice(0, 7) : revision;
}

export function renderTag(template: string, v: TagValues): string {
  const values = placeholderValues(v);
  return template.replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? `{${name}}`);
}

/** What each placeholder stands for; undefined where the target has no such value. */
export function placeholderValues(v: TagValues): Record<string, string | undefined> {
  return {
    image: v.image,
    major: v.postgres.length === 1 ? String(v.postgres[0]!.major) : undefined,
    version: v.postgres.length === 1 ? tagVersion(v.postgres[0]!) : undefined,
    versions: v.postgres.map(tagVersion).join("-") || undefined,
    distro: v.distro,
    flavour: v.flavour,
    timestamp: v.timestamp,
    revision: v.revision,
    shortrevision: shortRevision(v.revision),
  };
}

/** OCI distribution spec tag grammar. */
const TAG = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** Why a tag is not valid, or undefined when it is. */
export function tagProblem(tag: string): string | undefined {
  if (tag.length > 128) return `tag "${tag}" is ${tag.length} characters; at most 128`;
  const placeholder = /\{(\w+)\}/.exec(tag);
  if (placeholder) return `tag "${tag}": {${placeholder[1]}} has no value for this target`;
  if (!TAG.test(tag)) return `tag "${tag}" is not a valid OCI tag ([A-Za-z0-9_][A-Za-z0-9_.-]*)`;
  return undefined;
}

/** Timestamps are passed in as YYYYMMDDhhmm UTC; this checks one. */
export function timestampProblem(ts: string): string | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(ts);
  if (!m) return `timestamp "${ts}" is not YYYYMMDDhhmm`;
  const [, y, mo, d, h, mi] = m.map(Number) as number[];
  const date = new Date(Date.UTC(y!, mo! - 1, d!, h!, mi!));
  const ok = date.getUTCMonth() === mo! - 1 && date.getUTCDate() === d! && date.getUTCHours() === h! && date.getUTCMinutes() === mi!;
  return ok ? undefined : `timestamp "${ts}" is not a real UTC date and time`;
}

/** YYYYMMDDhhmm → RFC 3339, for org.opencontainers.image.created. */
export function rfc3339(ts: string): string {
  return `${ts.slice(0, 4)}-${ts.slice(4, 6)}-${ts.slice(6, 8)}T${ts.slice(8, 10)}:${ts.slice(10, 12)}:00Z`;
}

/** A clock reading → YYYYMMDDhhmm UTC; only shells read the clock and pass the result in. */
export function utcMinute(d: Date): string {
  return d.toISOString().replace(/[-T:]/g, "").slice(0, 12);
}

/** A target's full references: its unique testing and release tags, its aliases. */
export function targetRefs(t: Pick<Target, "repository" | "tags">): { testing: string; release: string; aliases: string[] } {
  return {
    testing: `${t.repository.testing}:${t.tags.testing}`,
    release: `${t.repository.release}:${t.tags.release}`,
    aliases: t.tags.aliases.map((a) => `${t.repository.release}:${a}`),
  };
}
