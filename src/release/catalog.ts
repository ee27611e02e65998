// CloudNativePG ClusterImageCatalogs, from what a release repository holds: per flavour and
// distro, each major's newest released image, referenced by its unique (timestamped) tag and
// digest, so a Cluster naming a major through a catalog gets exactly what was released.
//
// The input is a list of registry facts (each image's repository, digest, tags and labels), not
// one run's promotions: a catalog written from one CI job's targets would lack every major that
// job did not release. The engine side reads the facts; this file only decides.
//
// The shape is CloudNativePG's (postgres-containers): object `<family>-<flavour>-<distro>`, file
// `catalog-<flavour>-<distro>.yaml`, labels images.cnpg.io/{family,type,os,date,publisher}, and a
// kustomization.yaml listing the catalogs. Previews are left out: a catalog names what clusters
// run in production.
import { stringify } from "yaml";
import { KEYS } from "../plan/metadata.js";
import { byCodeUnit } from "../plan/order.js";
import { comparePgVersions, parsePgVersion } from "../plan/pgversion.js";
import { tagVersion } from "../plan/tags.js";
import { templatePattern } from "./retention.js";

/** What the registry says about one image (an index) of a release repository. */
export interface RegistryImage {
  /** ghcr.io/acme/postgresql */
  repository: string;
  /** sha256:… of the image index. */
  digest: string;
  /** Every tag that points at this digest. */
  tags: string[];
  /** The image's labels (pg-images writes its annotations as labels too). */
  labels: Record<string, string>;
  /** The release tag template its unique tags follow, when not the options' (images differ). */
  releaseTemplate?: string;
}

export interface CatalogOptions {
  /** images.cnpg.io/publisher. */
  publisher: string;
  /** images.cnpg.io/family and the object names' prefix; default: the repository's last segment. */
  family?: string;
  /** The release tag template the unique tags follow; default: the operand's. */
  releaseTemplate?: string;
}

export interface CatalogResult {
  /** File name → YAML: catalog-<flavour>-<distro>.yaml per catalog, and kustomization.yaml. */
  files: Map<string, string>;
  /** Operand images left out, with why (a preview, no unique tag). */
  leftOut: { image: string; reason: string }[];
}

/** images.cnpg.io/publisher for a matrix: metadata.publisher, else the host of metadata.url. */
export function catalogPublisher(metadata: { publisher?: string | undefined; url: string }): string {
  return metadata.publisher ?? new URL(metadata.url).hostname;
}

const OPERAND_RELEASE = "{version}-{timestamp}-{flavour}-{distro}";
// Kubernetes label values: 63 characters at most, alphanumeric at both ends.
const LABEL_VALUE = /^[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/;

interface Candidate {
  family: string;
  flavour: string;
  distro: string;
  major: number;
  version: string;
  timestamp: string;
  ref: string;
}

export function clusterImageCatalogs(images: readonly RegistryImage[], options: CatalogOptions): CatalogResult {
  if (!LABEL_VALUE.test(options.publisher)) throw new Error(`catalog publisher "${options.publisher}" is not a Kubernetes label value (letters, digits, . _ -, at most 63)`);
  const leftOut: CatalogResult["leftOut"] = [];
  const newest = new Map<string, Candidate>();
  for (const image of images) {
    const c = candidate(image, options, leftOut);
    if (!c) continue;
    const key = `${c.family}\u0000${c.flavour}\u0000${c.distro}\u0000${c.major}`;
    const held = newest.get(key);
    if (!held || newer(c, held)) newest.set(key, c);
  }
  const catalogs = new Map<string, Candidate[]>();
  for (const c of newest.values()) {
    const file = `catalog-${c.flavour}-${c.distro}.yaml`;
    const list = catalogs.get(file) ?? [];
    if (list.length > 0 && list[0]!.family !== c.family) {
      throw new Error(`${file}: images of two families (${list[0]!.family}, ${c.family}) share flavour ${c.flavour} and distro ${c.distro}; write their catalogs apart`);
    }
    catalogs.set(file, [...list, c]);
  }
  const files = new Map<string, string>();
  const names = [...catalogs.keys()].sort(byCodeUnit);
  for (const file of names) {
    const list = catalogs.get(file)!.sort((a, b) => a.major - b.major);
    const { family, flavour, distro } = list[0]!;
    const date = list.map((c) => c.timestamp).sort(byCodeUnit).at(-1)!.slice(0, 8);
    files.set(
      file,
      stringify({
        apiVersion: "postgresql.cnpg.io/v1",
        kind: "ClusterImageCatalog",
        metadata: {
          name: `${family}-${flavour}-${distro}`,
          labels: {
            "images.cnpg.io/family": family,
            "images.cnpg.io/type": flavour,
            "images.cnpg.io/os": distro,
            "images.cnpg.io/date": date,
            "images.cnpg.io/publisher": options.publisher,
          },
        },
        spec: { images: list.map((c) => ({ major: c.major, image: c.ref })) },
      }),
    );
  }
  if (names.length > 0) files.set("kustomization.yaml", stringify({ apiVersion: "kustomize.config.k8s.io/v1beta1", kind: "Kustomization", resources: names }));
  return { files, leftOut: leftOut.sort((a, b) => byCodeUnit(a.image, b.image)) };
}

// An operand image with its catalog facts, or undefined (recorded in leftOut where it is an operand).
function candidate(image: RegistryImage, options: CatalogOptions, leftOut: CatalogResult["leftOut"]): Candidate | undefined {
  const l = image.labels;
  const flavour = l[KEYS.flavour];
  const distro = l[KEYS.distro];
  const version = l[KEYS.pgVersion];
  const major = Number(l[KEYS.pgMajor]);
  if (l[KEYS.kind] !== "operand" || !flavour || !distro || !version || !Number.isInteger(major)) return undefined;
  const at = `${image.repository}@${image.digest}`;
  const parsed = parsePgVersion(version);
  if (!parsed) return void leftOut.push({ image: at, reason: `label ${KEYS.pgVersion} "${version}" is not a PostgreSQL version` });
  if (parsed.stage) return void leftOut.push({ image: at, reason: `${version} is a preview` });
  const template = image.releaseTemplate ?? options.releaseTemplate ?? OPERAND_RELEASE;
  const pattern = templatePattern(template, { major: String(major), version: tagVersion({ version }), flavour, distro });
  if (!pattern) throw new Error(`release template "${template}" has no {timestamp}: catalogs reference images by their timestamped tag`);
  const unique = image.tags.map((t) => ({ tag: t, m: pattern.exec(t) })).filter((x) => x.m).sort((a, b) => byCodeUnit(b.tag, a.tag))[0];
  if (!unique) return void leftOut.push({ image: at, reason: `no tag of the form ${template} (tags: ${image.tags.join(", ") || "none"})` });
  const family = options.family ?? image.repository.slice(image.repository.lastIndexOf("/") + 1);
  return { family, flavour, distro, major, version, timestamp: unique.m![1]!, ref: `${image.repository}:${unique.tag}@${image.digest}` };
}

// Newer: a later PostgreSQL release, then a later timestamp, then (for a stable choice) the reference.
function newer(a: Candidate, b: Candidate): boolean {
  return (comparePgVersions(a.version, b.version) || byCodeUnit(a.timestamp, b.timestamp) || byCodeUnit(a.ref, b.ref)) > 0;
}
