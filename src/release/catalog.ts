// CloudNativePG ClusterImageCatalog per flavour and distro: the newest image of each major,
// by digest, so clusters follow exactly what was released.
import { stringify } from "yaml";
import { byKey } from "../plan/order.js";

export interface CatalogEntry {
  flavour: string;
  distro: string;
  major: number;
  preview: boolean;
  /** repository:tag@sha256:… */
  image: string;
}

/** One YAML document per (flavour, distro); previews stay out, as they get no rolling tags. */
export function imageCatalogs(entries: readonly CatalogEntry[], prefix = "postgresql"): Map<string, string> {
  const groups = new Map<string, CatalogEntry[]>();
  for (const e of entries.filter((x) => !x.preview)) {
    const name = `${prefix}-${e.flavour}-${e.distro}`;
    groups.set(name, [...(groups.get(name) ?? []), e]);
  }
  const out = new Map<string, string>();
  for (const [name, list] of [...groups].sort(byKey(([name]) => name))) {
    const images = [...list].sort((a, b) => a.major - b.major).map((e) => ({ major: e.major, image: e.image }));
    const majors = images.map((i) => i.major);
    const duplicate = majors.find((m, i) => majors.indexOf(m) !== i);
    if (duplicate !== undefined) throw new Error(`catalog ${name}: two images for PostgreSQL ${duplicate}`);
    out.set(name, stringify({ apiVersion: "postgresql.cnpg.io/v1", kind: "ClusterImageCatalog", metadata: { name }, spec: { images } }));
  }
  return out;
}
