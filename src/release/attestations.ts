// SBOM and provenance inside the image index, laid out as BuildKit attaches them (its
// docs/attestations/attestation-storage.md), so `docker buildx imagetools inspect --format
// '{{ json .SBOM }}'` and other readers of that layout find them: per platform manifest, one
// attestation manifest (platform unknown/unknown, annotated with the manifest it is about) whose
// layers are in-toto statements about that manifest. Pure: the engine side hashes the large
// statements (the SBOMs) and hands in their digests; everything else is computed here.
import type { Platform } from "../kinds.js";
import { sha256 } from "../recipes/key.js";

export const IN_TOTO_STATEMENT = "https://in-toto.io/Statement/v0.1";
export const IN_TOTO_MEDIA_TYPE = "application/vnd.in-toto+json";
export const SPDX_DOCUMENT = "https://spdx.dev/Document";
export const PREDICATE_TYPE = "in-toto.io/predicate-type";
export const REFERENCE_TYPE = "vnd.docker.reference.type";
export const REFERENCE_DIGEST = "vnd.docker.reference.digest";
export const ATTESTATION_MANIFEST = "attestation-manifest";

const OCI_INDEX = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
const DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { architecture: string; os: string; variant?: string };
  annotations?: Record<string, string>;
}

/** A blob by its digest and size in bytes. */
export interface Blob {
  digest: string;
  size: number;
}

/** A blob whose text is known here: its digest and size follow from the text. */
export function blobOf(text: string): Blob & { text: string } {
  return { text, digest: `sha256:${sha256(text)}`, size: Buffer.byteLength(text) };
}

/**
 * An in-toto statement about one manifest, as the text before and after its predicate: `head`,
 * the predicate's JSON, then `tail` is the statement. The predicate comes last so that a large
 * one (an SBOM) is never parsed or copied here: the engine writes the three parts one after the
 * other. The subject's name is BuildKit's: a package URL with the platform.
 */
export function statementAround(predicateType: string, subject: { name: string; digest: string; platform: Platform }): { head: string; tail: string } {
  const [algorithm, hex] = subject.digest.split(":") as [string, string];
  const name = `pkg:docker/${subject.name}?platform=${encodeURIComponent(subject.platform)}`;
  const head = JSON.stringify({ _type: IN_TOTO_STATEMENT, predicateType, subject: [{ name, digest: { [algorithm]: hex } }] }).slice(0, -1);
  return { head: `${head},"predicate":`, tail: "}" };
}

/** A whole statement, for a predicate small enough to hold here (the provenance). */
export function statement(predicateType: string, predicate: unknown, subject: Parameters<typeof statementAround>[1]): string {
  const { head, tail } = statementAround(predicateType, subject);
  return head + JSON.stringify(predicate) + tail;
}

/** One platform's statements, hashed: what its attestation manifest lists, in this order. */
export interface Statement extends Blob {
  predicateType: string;
}

/**
 * The attestation manifest for one platform manifest and its config: an OCI image manifest whose
 * layers are the statements, and an image config of platform unknown/unknown whose diff_ids are
 * the statements' digests (they are stored uncompressed), as BuildKit writes them.
 */
export function attestationManifest(statements: readonly Statement[]): { manifest: Blob & { text: string }; config: Blob & { text: string } } {
  if (statements.length === 0) throw new Error("an attestation manifest needs at least one statement");
  const config = blobOf(JSON.stringify({ architecture: "unknown", os: "unknown", config: {}, rootfs: { type: "layers", diff_ids: statements.map((s) => s.digest) } }));
  const manifest = blobOf(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: OCI_CONFIG, digest: config.digest, size: config.size },
      layers: statements.map((s) => ({ mediaType: IN_TOTO_MEDIA_TYPE, digest: s.digest, size: s.size, annotations: { [PREDICATE_TYPE]: s.predicateType } })),
    }),
  );
  return { manifest, config };
}

/** The descriptor an index lists an attestation manifest under. */
export function attestationDescriptor(manifest: Blob, about: string): Descriptor {
  return {
    mediaType: OCI_MANIFEST,
    digest: manifest.digest,
    size: manifest.size,
    annotations: { [REFERENCE_DIGEST]: about, [REFERENCE_TYPE]: ATTESTATION_MANIFEST },
    platform: { architecture: "unknown", os: "unknown" },
  };
}

/** An attestation manifest's descriptor, told from a runnable image's. */
export function isAttestation(d: Descriptor): boolean {
  return d.annotations?.[REFERENCE_TYPE] === ATTESTATION_MANIFEST;
}

/** The top of an OCI layout: index.json's one descriptor and the text of the blob it names. */
export interface LayoutTop {
  descriptor: Descriptor;
  text: string;
}

/** What the layout holds: each platform's image manifest (an index's children, or the one manifest). */
export interface LayoutImages {
  /** The image index, parsed, when the top is one. */
  index?: Record<string, unknown> & { manifests: Descriptor[] };
  images: { platform: Platform; descriptor: Descriptor }[];
}

/**
 * Each platform's manifest in a layout exported for `platforms`: under an index, matched by the
 * descriptors' platforms (attestation manifests left out); a lone manifest is the one platform's.
 */
export function layoutImages(top: LayoutTop, platforms: readonly Platform[]): LayoutImages {
  const { mediaType } = top.descriptor;
  if (mediaType !== OCI_INDEX && mediaType !== DOCKER_LIST) {
    if (platforms.length !== 1) throw new Error(`the layout holds one image manifest (${top.descriptor.digest}), expected an index of ${platforms.join(", ")}`);
    return { images: [{ platform: platforms[0]!, descriptor: { mediaType, digest: top.descriptor.digest, size: top.descriptor.size } }] };
  }
  const index = JSON.parse(top.text) as LayoutImages["index"] & {};
  if (!Array.isArray(index.manifests)) throw new Error(`image index ${top.descriptor.digest} has no manifests`);
  const runnable = index.manifests.filter((d) => !isAttestation(d));
  const images = platforms.map((platform) => {
    const found = runnable.filter((d) => d.platform && `${d.platform.os}/${d.platform.architecture}` === platform);
    if (found.length !== 1) throw new Error(`image index ${top.descriptor.digest} has ${found.length} manifests for ${platform}, expected one`);
    return { platform, descriptor: found[0]! };
  });
  return { index, images };
}

/** Each platform's manifest digest: what the reproducibility promise covers. */
export function platformDigests(images: LayoutImages["images"]): Record<string, string> {
  return Object.fromEntries(images.map((i) => [i.platform, i.descriptor.digest]));
}

/**
 * The image index with an attestation manifest after all the runnable manifests, one per platform
 * in the order of the platforms. A lone manifest becomes an index of it (with its platform) and
 * its attestation, carrying `annotations`, as an index of several platforms does; an index keeps
 * everything else it had.
 */
export function attestedIndex(layout: LayoutImages, attestations: readonly Blob[], annotations: Record<string, string> | undefined): Blob & { text: string } {
  if (attestations.length !== layout.images.length) throw new Error(`${attestations.length} attestation manifests for ${layout.images.length} platforms`);
  const added = layout.images.map((image, i) => attestationDescriptor(attestations[i]!, image.descriptor.digest));
  if (layout.index) {
    const runnable = layout.index.manifests.filter((d) => !isAttestation(d));
    return blobOf(JSON.stringify({ ...layout.index, manifests: [...runnable, ...added] }));
  }
  const [{ platform, descriptor }] = layout.images as [LayoutImages["images"][number]];
  const [os, architecture] = platform.split("/") as [string, string];
  const image = { ...descriptor, platform: { architecture, os } };
  return blobOf(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [image, ...added], ...(annotations ? { annotations } : {}) }));
}

/** index.json of a layout holding that one index. */
export function layoutIndexJson(index: Blob): string {
  return JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: OCI_INDEX, digest: index.digest, size: index.size }] });
}

/**
 * Two published images are the same image when they hold the same manifest for every platform:
 * their indexes may differ only by the attestations (which carry the time of their run).
 */
export function samePlatformImages(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a).sort();
  return keys.length > 0 && keys.join(" ") === Object.keys(b).sort().join(" ") && keys.every((k) => a[k] === b[k]);
}
