// Signatures and attestations with cosign, for digests that passed their smoke tests only: the
// caller signs after a target passed, never before. A key given as a Dagger Secret (tests,
// air-gapped users; no transparency log), or keyless through the CI provider's OIDC token
// (Fulcio certificate, Rekor entry).
import { dag, type File, type Secret } from "@dagger.io/dagger";
import { q, type RegistryClient } from "./registry.js";

export type Signing =
  /** cosign.key's text and its password. */
  | { key: Secret; password: Secret }
  /** An OIDC identity token from the CI provider, audience "sigstore". */
  | { identityToken: Secret };

/** The predicate types cosign names by these words. */
export type AttestationType = "spdxjson" | "slsaprovenance";

export class Signer {
  /** Without `signing` it only copies what is signed already (a release needs no identity). */
  constructor(
    private readonly registry: RegistryClient,
    private readonly cosignImage: string,
    private readonly signing?: Signing,
  ) {}

  get signs(): boolean {
    return this.signing !== undefined;
  }

  /** Sign an image (an index: with each platform's manifest) by digest. */
  async sign(digestRef: string): Promise<void> {
    await this.cosign([digestRef], `cosign sign --yes --recursive ${this.how()} ${q(this.registry.address(digestRef))}`);
  }

  /** Attach a signed in-toto attestation with this predicate to an image, by digest. */
  async attest(digestRef: string, type: AttestationType, predicate: File): Promise<void> {
    await this.cosign([digestRef], `cosign attest --yes --type ${type} --predicate /input ${this.how()} ${q(this.registry.address(digestRef))}`, predicate);
  }

  /**
   * Copy an image's signatures and attestations to a tag of another repository that already holds
   * the same digest (cosign names them after the digest there).
   */
  async copyAttachments(fromDigestRef: string, toTag: string): Promise<void> {
    await this.cosign([fromDigestRef, toTag], `cosign copy --force --only=sig,att ${q(this.registry.address(fromDigestRef))} ${q(this.registry.address(toTag))}`);
  }

  /**
   * A Sigstore bundle signing a file (a catalog): `cosign verify-blob --new-bundle-format --bundle`
   * checks it, offline with a key.
   */
  async signBlob(file: File): Promise<string> {
    return this.cosign([], `cosign sign-blob --yes ${this.how()} --new-bundle-format --bundle /tmp/blob.bundle /input >/dev/null && cat /tmp/blob.bundle`, file);
  }

  /** The public key to verify with, for the report (the key path only). */
  async publicKey(): Promise<string | undefined> {
    if (!this.signing || !("key" in this.signing)) return undefined;
    return this.cosign([], "cosign public-key --key env://COSIGN_KEY");
  }

  /** How to check an image with standard tools, for the report. */
  verifyCommands(digestRef: string): string[] {
    const who =
      this.signing && "key" in this.signing
        ? "--key cosign.pub --insecure-ignore-tlog=true"
        : "--certificate-identity-regexp '<your CI workflow>' --certificate-oidc-issuer '<your CI provider>'";
    return [
      `cosign verify ${who} ${digestRef}`,
      `cosign verify-attestation ${who} --type slsaprovenance ${digestRef}`,
      `cosign verify-attestation ${who} --type spdxjson ${digestRef}`,
    ];
  }

  // The key and its password, or the identity token, reach cosign as secret variables only.
  private how(): string {
    if (!this.signing) throw new Error("signing needs --signing-key and --signing-password, or --oidc-token");
    return "key" in this.signing ? "--key env://COSIGN_KEY --tlog-upload=false" : '--identity-token "$SIGSTORE_ID_TOKEN"';
  }

  /** A cosign script, with the signing identity as secret variables and a file at /input. */
  private cosign(refs: string[], script: string, input?: File): Promise<string> {
    return this.registry.withCosign(this.cosignImage, refs, script, (c) => {
      const s = this.signing;
      let out = !s ? c : "key" in s ? c.withSecretVariable("COSIGN_KEY", s.key).withSecretVariable("COSIGN_PASSWORD", s.password) : c.withSecretVariable("SIGSTORE_ID_TOKEN", s.identityToken);
      if (input) out = out.withMountedFile("/input", input);
      return out.withEnvVariable("COSIGN_YES", "true");
    });
  }
}

/** A predicate file made from JSON text, for attest. */
export function predicateFile(json: unknown): File {
  return dag.directory().withNewFile("predicate.json", JSON.stringify(json, null, 2) + "\n").file("predicate.json");
}
