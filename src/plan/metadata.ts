// OCI annotations (also written as labels), computed once per target.
import type { Matrix } from "../matrix/schema.js";
import { byKey } from "./order.js";
import { rfc3339 } from "./tags.js";
import type { PgVersion, RunInputs, Target } from "./types.js";

/** The project's own annotation keys. */
export const KEYS = {
  target: "io.pg-images.target",
  /** The recipe's key with the resolved packages folded in: what "unchanged" compares. */
  inputKey: "io.pg-images.input-key",
  /** The recipe alone (steps, base, pins, parent's recipe). */
  recipeKey: "io.pg-images.recipe-key",
  /** What apt resolved for the target, every platform. */
  packagesKey: "io.pg-images.packages-key",
  pgMajor: "io.pg-images.pg.major",
  pgVersion: "io.pg-images.pg.version",
  flavour: "io.pg-images.flavour",
  distro: "io.pg-images.distro",
  kind: "io.pg-images.kind",
} as const;

/**
 * A title or description template filled in for a target: {version} as written in matrix.yaml
 * (17.9, 19~beta3; tags drop the "~", text keeps it), {major}, {flavour}, {distro}, {image}.
 * Placeholders the target has no value for are left as written, for the plan to refuse.
 */
export function renderText(template: string, v: { image: string; postgres: readonly PgVersion[]; distro?: string | undefined; flavour?: string | undefined }): string {
  const one = v.postgres.length === 1 ? v.postgres[0] : undefined;
  const values: Record<string, string | undefined> = { image: v.image, version: one?.version, major: one ? String(one.major) : undefined, flavour: v.flavour, distro: v.distro };
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => values[name] ?? whole);
}

/** The title when the image gives none: "<id> <version(s)> <distro>". */
export function defaultTitle(image: string, postgres: readonly PgVersion[], distro: string | undefined): string {
  return [image, postgres.map((p) => p.version).join(" "), distro].filter(Boolean).join(" ");
}

export function annotations(m: Matrix, t: Target, inputKey: string, inputs: RunInputs): Record<string, string> {
  const [baseName, baseDigest] = t.base.split("@") as [string, string];
  const versions = t.postgres.map((p) => p.version).join(" ");
  const entries: [string, string | undefined][] = [
    ["org.opencontainers.image.created", rfc3339(inputs.timestamp)],
    ["org.opencontainers.image.version", versions || inputs.revision],
    ["org.opencontainers.image.revision", inputs.revision],
    ["org.opencontainers.image.source", m.metadata.source],
    ["org.opencontainers.image.url", m.metadata.url],
    ["org.opencontainers.image.documentation", m.metadata.documentation],
    ["org.opencontainers.image.authors", m.metadata.authors],
    ["org.opencontainers.image.vendor", m.metadata.vendor],
    ["org.opencontainers.image.licenses", m.metadata.licenses],
    ["org.opencontainers.image.title", t.title],
    ["org.opencontainers.image.description", t.description],
    ["org.opencontainers.image.base.name", baseName],
    ["org.opencontainers.image.base.digest", baseDigest],
    [KEYS.target, t.id],
    [KEYS.kind, t.kind],
    [KEYS.inputKey, inputKey],
    [KEYS.pgMajor, t.postgres.map((p) => p.major).join(" ") || undefined],
    [KEYS.pgVersion, versions || undefined],
    [KEYS.flavour, t.flavour],
    [KEYS.distro, t.distro],
  ];
  return Object.fromEntries(entries.filter((e): e is [string, string] => e[1] !== undefined).sort(byKey(([key]) => key)));
}
