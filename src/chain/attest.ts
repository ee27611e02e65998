// The tested OCI layout with its SBOM and provenance attached inside the image index, as BuildKit
// attaches them (src/release/attestations.ts decides the JSON). The platform manifests are not
// touched: the images tested, scanned and signed are the images published; only the index over
// them is new, and a release copies it whole, attestations included.
import { dag, type File } from "@dagger.io/dagger";
import type { Platform } from "../kinds.js";
import {
  attestationManifest,
  attestedIndex,
  blobOf,
  layoutImages,
  layoutIndexJson,
  platformDigests,
  SPDX_DOCUMENT,
  statement,
  statementAround,
  type LayoutTop,
  type Statement,
} from "../release/attestations.js";
import { SLSA_PROVENANCE_V02 } from "../release/provenance.js";
import type { Sbom } from "./target.js";

export interface Attested {
  /** The layout to push: the index with an attestation manifest per platform. */
  tarball: File;
  digest: string;
  /** Each platform's manifest digest, the same as in the tarball tested. */
  manifests: Record<string, string>;
}

/** index.json's descriptor and the blob it names, read from an OCI tarball. */
export async function readLayoutTop(tarball: File, crane: string): Promise<LayoutTop> {
  const out = await dag
    .container()
    .from(crane)
    .withMountedFile("/image.tar", tarball)
    .withExec(["sh", "-ec", READ_TOP])
    .stdout();
  const { index, top } = JSON.parse(out) as { index: { manifests?: LayoutTop["descriptor"][] }; top: unknown };
  const descriptor = index.manifests?.[0];
  if (!descriptor || index.manifests!.length !== 1) throw new Error(`image tarball: index.json should name one image, found ${JSON.stringify(index.manifests ?? [])}`);
  return { descriptor, text: JSON.stringify(top) };
}

// index.json and the blob it names, as one JSON object (both are JSON).
const READ_TOP = `mkdir /work && tar -xf /image.tar -C /work index.json && i=$(cat /work/index.json)
d=$(printf '%s' "$i" | tr -d ' \\n' | grep -o '"digest":"sha256:[0-9a-f]\\{64\\}"' | head -n 1 | cut -d'"' -f4)
[ -n "$d" ] || { echo "no image in index.json: $i" >&2; exit 1; }
tar -xf /image.tar -C /work "blobs/sha256/\${d#sha256:}"
printf '{"index":%s,"top":%s}' "$i" "$(cat "/work/blobs/sha256/\${d#sha256:}")"`;

export interface AttestOptions {
  crane: string;
  platforms: readonly Platform[];
  /** The image's name in the statements' subjects (repository@tag). */
  name: string;
  /** One per platform, in the order of platforms. */
  sboms: readonly Sbom[];
  /** The SLSA provenance predicate (v0.2), the same for every platform. */
  provenance: Record<string, unknown>;
  /** Written on the index when a lone manifest becomes one. */
  annotations: Record<string, string>;
}

/**
 * The tarball with, per platform, an attestation manifest holding an SPDX statement (syft's
 * document as the predicate) and a SLSA provenance statement, both about that platform's manifest.
 * The SBOMs never pass through here: the engine writes each statement around its document and
 * hashes it, and the manifests and index are made from those digests.
 */
export async function attestTarball(tarball: File, o: AttestOptions): Promise<Attested> {
  const top = await readLayoutTop(tarball, o.crane);
  const layout = layoutImages(top, o.platforms);
  if (o.sboms.length !== layout.images.length) throw new Error(`${o.sboms.length} SBOMs for ${layout.images.length} platforms`);
  let c = dag.container().from(o.crane).withMountedFile("/in.tar", tarball);
  layout.images.forEach(({ platform, descriptor }, i) => {
    const sbom = o.sboms.find((s) => s.platform === platform);
    if (!sbom) throw new Error(`no SBOM for ${platform}`);
    const { head, tail } = statementAround(SPDX_DOCUMENT, { name: o.name, digest: descriptor.digest, platform });
    c = c.withMountedFile(`/att/sbom-${i}`, sbom.spdx).withNewFile(`/att/head-${i}`, head).withNewFile(`/att/tail-${i}`, tail);
  });
  c = c.withExec(["sh", "-ec", WRITE_SBOM_STATEMENTS]);
  const hashed = new Map((await c.stdout()).trim().split("\n").map((l) => l.split(" ") as [string, string, string]).map(([n, d, s]) => [n, { digest: `sha256:${d}`, size: Number(s) }]));

  const small: (ReturnType<typeof blobOf>)[] = [];
  const attestations = layout.images.map(({ platform, descriptor }, i) => {
    const sbom = hashed.get(`sbom-${i}`);
    if (!sbom) throw new Error(`the SBOM statement for ${platform} was not written`);
    const provenance = blobOf(statement(SLSA_PROVENANCE_V02, o.provenance, { name: o.name, digest: descriptor.digest, platform }));
    const statements: Statement[] = [{ ...sbom, predicateType: SPDX_DOCUMENT }, { digest: provenance.digest, size: provenance.size, predicateType: SLSA_PROVENANCE_V02 }];
    const { manifest, config } = attestationManifest(statements);
    small.push(provenance, config, manifest);
    return manifest;
  });
  const index = attestedIndex(layout, attestations, layout.index ? undefined : o.annotations);
  small.push(index);
  for (const b of small) c = c.withNewFile(`/small/${b.digest.slice("sha256:".length)}`, b.text);
  // The index it replaces is no longer named by anything; a lone manifest stays, under the new index.
  const replaced = layout.index ? top.descriptor.digest : "";
  const out = c
    .withNewFile("/index.json", layoutIndexJson(index))
    .withEnvVariable("REPLACED", replaced.replace("sha256:", ""))
    .withExec(["sh", "-ec", WRITE_LAYOUT])
    .file("/image.tar");
  return { tarball: out, digest: index.digest, manifests: platformDigests(layout.images) };
}

// Each SBOM statement: the head, syft's document, the tail; then "<name> <sha256 hex> <bytes>".
const WRITE_SBOM_STATEMENTS = `mkdir /st
for h in /att/head-*; do i=\${h##*-}; cat "$h" "/att/sbom-$i" "/att/tail-$i" > "/st/sbom-$i"; done
for f in /st/*; do printf '%s %s %s\\n' "\${f##*/}" "$(sha256sum "$f" | cut -d' ' -f1)" "$(wc -c < "$f")"; done`;

// The layout with every new blob under its digest (each one checked against its name), the
// replaced index blob gone, and index.json naming the new index.
const WRITE_LAYOUT = `mkdir /work && tar -xf /in.tar -C /work && cd /work
for f in /st/*; do mv "$f" "blobs/sha256/$(sha256sum "$f" | cut -d' ' -f1)"; done
for f in /small/*; do
  [ "$(sha256sum "$f" | cut -d' ' -f1)" = "\${f##*/}" ] || { echo "blob \${f##*/}: its bytes hash to another digest"; exit 1; }
  cp "$f" blobs/sha256/
done
[ -z "$REPLACED" ] || rm -f "blobs/sha256/$REPLACED"
cp /index.json index.json
tar -cf /image.tar $(ls)`;
