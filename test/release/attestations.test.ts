import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  attestationManifest,
  attestedIndex,
  blobOf,
  layoutImages,
  layoutIndexJson,
  platformDigests,
  samePlatformImages,
  statement,
  statementAround,
  type LayoutTop,
} from "../../src/release/attestations.js";

const hex = (c: string) => c.repeat(64);
const AMD = `sha256:${hex("a")}`;
const ARM = `sha256:${hex("b")}`;
const sha = (text: string) => `sha256:${createHash("sha256").update(text).digest("hex")}`;

const index = {
  schemaVersion: 2,
  mediaType: "application/vnd.oci.image.index.v1+json",
  manifests: [
    { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: AMD, size: 1000, platform: { architecture: "amd64", os: "linux" } },
    { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: ARM, size: 1001, platform: { architecture: "arm64", os: "linux" } },
  ],
  annotations: { "io.pg-images.target": "minimal-17-trixie" },
};
const indexTop: LayoutTop = { descriptor: { mediaType: "application/vnd.oci.image.index.v1+json", digest: `sha256:${hex("c")}`, size: 500 }, text: JSON.stringify(index) };
const manifestTop: LayoutTop = { descriptor: { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: AMD, size: 1000 }, text: "{}" };

describe("in-toto statements about one platform manifest", () => {
  it("the head, the predicate's own text and the tail make BuildKit's statement", () => {
    const { head, tail } = statementAround("https://spdx.dev/Document", { name: "r.example/pg:17.9-x", digest: AMD, platform: "linux/arm64" });
    // syft's document as it is written, with its trailing newline.
    const spdx = '{\n "spdxVersion": "SPDX-2.3",\n "SPDXID": "SPDXRef-DOCUMENT"\n}\n';
    expect(JSON.parse(head + spdx + tail)).toEqual({
      _type: "https://in-toto.io/Statement/v0.1",
      predicateType: "https://spdx.dev/Document",
      subject: [{ name: "pkg:docker/r.example/pg:17.9-x?platform=linux%2Farm64", digest: { sha256: hex("a") } }],
      predicate: { spdxVersion: "SPDX-2.3", SPDXID: "SPDXRef-DOCUMENT" },
    });
  });

  it("a whole statement for a small predicate, with the predicate last", () => {
    const text = statement("https://slsa.dev/provenance/v0.2", { buildType: "b" }, { name: "n", digest: ARM, platform: "linux/amd64" });
    expect(text).toBe(`{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://slsa.dev/provenance/v0.2","subject":[{"name":"pkg:docker/n?platform=linux%2Famd64","digest":{"sha256":"${hex("b")}"}}],"predicate":{"buildType":"b"}}`);
  });
});

describe("the attestation manifest", () => {
  const statements = [
    { digest: `sha256:${hex("1")}`, size: 12345, predicateType: "https://spdx.dev/Document" },
    { digest: `sha256:${hex("2")}`, size: 678, predicateType: "https://slsa.dev/provenance/v0.2" },
  ];

  it("lists each statement as an in-toto layer annotated with its predicate type, over an unknown/unknown config", () => {
    const { manifest, config } = attestationManifest(statements);
    expect(JSON.parse(config.text)).toEqual({ architecture: "unknown", os: "unknown", config: {}, rootfs: { type: "layers", diff_ids: [`sha256:${hex("1")}`, `sha256:${hex("2")}`] } });
    expect(JSON.parse(manifest.text)).toEqual({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", digest: config.digest, size: config.size },
      layers: [
        { mediaType: "application/vnd.in-toto+json", digest: `sha256:${hex("1")}`, size: 12345, annotations: { "in-toto.io/predicate-type": "https://spdx.dev/Document" } },
        { mediaType: "application/vnd.in-toto+json", digest: `sha256:${hex("2")}`, size: 678, annotations: { "in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2" } },
      ],
    });
    for (const b of [manifest, config]) expect([b.digest, b.size]).toEqual([sha(b.text), Buffer.byteLength(b.text)]);
  });

  it("is refused without a statement", () => {
    expect(() => attestationManifest([])).toThrow("an attestation manifest needs at least one statement");
  });

  it("counts bytes, not characters, in a blob's size", () => {
    expect(blobOf('{"d":"é"}').size).toBe(10); // 9 characters
  });
});

describe("the platform manifests of a layout", () => {
  it("an index's, by platform, attestation manifests left out", () => {
    const attested = { ...index, manifests: [...index.manifests, { mediaType: "application/vnd.oci.image.manifest.v1+json", digest: `sha256:${hex("d")}`, size: 9, platform: { architecture: "unknown", os: "unknown" }, annotations: { "vnd.docker.reference.type": "attestation-manifest", "vnd.docker.reference.digest": AMD } }] };
    const images = layoutImages({ ...indexTop, text: JSON.stringify(attested) }, ["linux/amd64", "linux/arm64"]).images;
    expect(platformDigests(images)).toEqual({ "linux/amd64": AMD, "linux/arm64": ARM });
  });

  it("a lone manifest is its one platform's", () => {
    expect(platformDigests(layoutImages(manifestTop, ["linux/amd64"]).images)).toEqual({ "linux/amd64": AMD });
  });

  it.each([
    [manifestTop, ["linux/amd64", "linux/arm64"], `the layout holds one image manifest (${AMD}), expected an index of linux/amd64, linux/arm64`],
    [{ ...indexTop, text: JSON.stringify({ ...index, manifests: index.manifests.slice(0, 1) }) }, ["linux/amd64", "linux/arm64"], `image index sha256:${hex("c")} has 0 manifests for linux/arm64, expected one`],
    [{ ...indexTop, text: JSON.stringify({ ...index, manifests: undefined }) }, ["linux/amd64"], `image index sha256:${hex("c")} has no manifests`],
  ] as const)("a layout that does not hold the platforms built is refused: %#", (top, platforms, message) => {
    expect(() => layoutImages(top, platforms)).toThrow(message);
  });
});

describe("the index with its attestations", () => {
  const att = [blobOf("amd64 attestations"), blobOf("arm64 attestations")];
  const descriptor = (about: string, b: { digest: string; size: number }) => ({
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    digest: b.digest,
    size: b.size,
    annotations: { "vnd.docker.reference.digest": about, "vnd.docker.reference.type": "attestation-manifest" },
    platform: { architecture: "unknown", os: "unknown" },
  });

  it("appends one attestation manifest per platform after the images, each naming its platform manifest", () => {
    const out = attestedIndex(layoutImages(indexTop, ["linux/amd64", "linux/arm64"]), att, { ignored: "an index keeps its own" });
    expect(JSON.parse(out.text)).toEqual({ ...index, manifests: [...index.manifests, descriptor(AMD, att[0]!), descriptor(ARM, att[1]!)] });
    expect(out.digest).toBe(sha(out.text));
  });

  it("replaces the attestations an index already has instead of adding more", () => {
    const once = attestedIndex(layoutImages(indexTop, ["linux/amd64", "linux/arm64"]), att, undefined);
    const twice = attestedIndex(layoutImages({ ...indexTop, text: once.text }, ["linux/amd64", "linux/arm64"]), att, undefined);
    expect(twice.text).toBe(once.text);
  });

  it("makes a lone manifest an index of it (with its platform) and its attestation, annotated", () => {
    const out = attestedIndex(layoutImages(manifestTop, ["linux/amd64"]), att.slice(0, 1), { "io.pg-images.target": "stylechecker" });
    expect(JSON.parse(out.text)).toEqual({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [{ mediaType: "application/vnd.oci.image.manifest.v1+json", digest: AMD, size: 1000, platform: { architecture: "amd64", os: "linux" } }, descriptor(AMD, att[0]!)],
      annotations: { "io.pg-images.target": "stylechecker" },
    });
  });

  it("needs one attestation manifest per platform", () => {
    expect(() => attestedIndex(layoutImages(indexTop, ["linux/amd64", "linux/arm64"]), att.slice(0, 1), undefined)).toThrow("1 attestation manifests for 2 platforms");
  });

  it("index.json names the index alone", () => {
    const b = blobOf("x");
    expect(JSON.parse(layoutIndexJson(b))).toEqual({ schemaVersion: 2, mediaType: "application/vnd.oci.image.index.v1+json", manifests: [{ mediaType: "application/vnd.oci.image.index.v1+json", digest: b.digest, size: 1 }] });
  });
});

describe("the same image", () => {
  it.each([
    [{ "linux/amd64": AMD, "linux/arm64": ARM }, { "linux/arm64": ARM, "linux/amd64": AMD }, true],
    [{ "linux/amd64": AMD }, { "linux/amd64": ARM }, false],
    [{ "linux/amd64": AMD }, { "linux/amd64": AMD, "linux/arm64": ARM }, false],
    [{ "linux/amd64": AMD, "linux/arm64": ARM }, { "linux/amd64": AMD }, false],
    [{}, {}, false],
  ])("%j and %j: %s", (a, b, same) => {
    expect(samePlatformImages(a, b)).toBe(same);
  });
});
