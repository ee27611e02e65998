// The PGDG-shaped repositories scripts/world/pgdg.sh serves: their URLs and key from
// $WORLD/pgdg.json, and a matrix template's {{pgdg:…}} placeholders filled from them.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { WORLD } from "./world.js";

export interface LocalPgdg {
  /** Where the repositories are served: an address every engine's containers reach directly. */
  url: string;
  /** The same repositories on 127.0.0.1, which the engine's containers reach through a tunnel. */
  loopbackUrl: string;
  mirror: string;
  archive: string;
  keyUrl: string;
  fingerprint: string;
  /** A second key, which signs nothing: the wrong-fingerprint case. */
  otherKeyUrl: string;
  otherFingerprint: string;
  /** Per Debian release: its major, the mirror's minor, the older one only the archive has. */
  releases: Record<string, { major: number; current: string; old: string | null; suffix: string }>;
}

export function readLocalPgdg(): LocalPgdg {
  const file = join(WORLD, "pgdg.json");
  if (!existsSync(file)) throw new Error(`${file} is missing: run scripts/world/pgdg.sh (up.sh does)`);
  return JSON.parse(readFileSync(file, "utf8")) as LocalPgdg;
}

/** Package → version, from one suite's Packages index (fetched over HTTP like apt does). */
export async function packagesIn(root: string, suite: string): Promise<Map<string, string[]>> {
  const url = `${root}/dists/${suite}/main/binary-amd64/Packages`;
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  const found = new Map<string, string[]>();
  for (const stanza of (await r.text()).split("\n\n")) {
    const name = /^Package: (.+)$/m.exec(stanza)?.[1];
    const version = /^Version: (.+)$/m.exec(stanza)?.[1];
    if (name && version) found.set(name, [...(found.get(name) ?? []), version]);
  }
  return found;
}

const PLACEHOLDER = /\{\{pgdg:([a-zA-Z]+)(?::([a-z0-9.+-]+))?\}\}/g;

/**
 * {{pgdg:mirror|archive|keyUrl|fingerprint}}, {{pgdg:<release>:current|old}} and
 * {{pgdg:pin:<package>}} ("<upstream version>-*" of the mirror's bookworm package).
 */
export async function fillPgdg(template: string, pgdg: LocalPgdg): Promise<string> {
  const mirror = await packagesIn(pgdg.mirror, "bookworm-pgdg");
  return template.replace(PLACEHOLDER, (all, a: string, b: string | undefined) => {
    let v: string | null | undefined;
    if (b === undefined) v = (pgdg as unknown as Record<string, string>)[a];
    else if (a === "pin") v = mirror.get(b)?.[0]?.replace(/-[^-]*$/, "-*");
    else v = (pgdg.releases[a] as Record<string, string | null> | undefined)?.[b];
    if (!v) throw new Error(`${all}: nothing in ${WORLD}/pgdg.json or the mirror's index for it`);
    return v;
  });
}
