// One target through the chain: build → smoke → SBOM. Results, not exceptions: one target
// failing never hides the others' results.
import { dag, type Container, type Directory, type File } from "@dagger.io/dagger";
import { createHash } from "node:crypto";
import type { CheckResult } from "../release/decisions.js";
import type { Platform } from "../kinds.js";
import type { Recipe, Runtime, SmokeCheck } from "../recipes/types.js";
import { mountDirectory, type DaggerContext } from "../render/dagger.js";

/** One platform's SBOM: syft's SPDX and CycloneDX documents, and their paths in the report. */
export interface Sbom {
  platform: Platform;
  spdx: File;
  cyclonedx: File;
  paths: { spdx: string; cyclonedx: string };
}

/** `uname -m` on each platform: what the smoke checks assert the image runs as. */
const MACHINE: Record<Platform, string> = { "linux/amd64": "x86_64", "linux/arm64": "aarch64" };

/**
 * Smoke checks on every platform's image, concurrently. With several platforms each check is
 * named after its platform ("linux/arm64: SELECT version()"), so a report says which one failed.
 */
export async function smokeEveryPlatform(images: readonly { platform: Platform; image: Container; ctx: DaggerContext }[], recipe: Recipe): Promise<CheckResult[]> {
  const each = await Promise.all(images.map(({ platform, image, ctx }) => smoke(image.withEnvVariable("PG_IMAGES_MACHINE", MACHINE[platform]), recipe, ctx)));
  if (images.length === 1) return each[0]!;
  return each.flatMap((checks, i) => checks.map((c) => ({ ...c, name: `${images[i]!.platform}: ${c.name}` })));
}

/** Smoke checks and the image-config expectations, run against any container. */
export async function smoke(image: Container, recipe: Recipe, ctx: DaggerContext): Promise<CheckResult[]> {
  const checks = recipe.smoke.map(async (check): Promise<CheckResult> => {
    let c = image;
    for (const m of check.mounts ?? []) c = c.withMountedDirectory(m.at, mountDirectory(m, ctx));
    if (check.user) c = c.withUser(check.user);
    try {
      await (check.runtime ? underRuntime(c, check, check.runtime) : c.withExec(["sh", "-ec", check.script])).sync();
      return { name: check.name, ok: true };
    } catch (e) {
      return { name: check.name, ok: false, detail: failure(e) };
    }
  });
  return [...(await configChecks(image, recipe)), ...(await Promise.all(checks))];
}

/**
 * A check under a Runtime, as far as withExec allows. Native: the user, tmpfs at the writable
 * paths (mode 0777, like emptyDirs: a tmpfs takes its mount point's mode), each volume an empty
 * directory owned by the user (fsGroup's effect), the environment. Emulated: the read-only
 * root. Before the check, as root, the mount points are made, every directory is listed and a
 * marker touched; after it, as root, every file newer than the marker and every new directory
 * outside the writable paths fails the check, listed. What this does not see, where Docker's
 * --read-only refuses it: a deletion, a chmod, a file given an old mtime; the write itself
 * succeeds, so a step that depends on it is not failed. Not emulated: capabilities. A non-root
 * exec holds none (the check reads CapEff and CapPrm), but the bounding set is the engine's
 * default, so a setuid file could still gain some; Docker drops them all and sets no-new-privileges.
 */
export function underRuntime(c: Container, check: SmokeCheck, r: Runtime, emptyDirectory: () => Directory = () => dag.directory()): Container {
  let run = c.withUser("root").withExec(["sh", "-ec", prepareScan(r)]);
  for (const p of r.tmpfs) run = run.withMountedTemp(p);
  for (const p of r.volumes) run = run.withMountedDirectory(p, emptyDirectory(), { owner: r.user });
  for (const [k, v] of Object.entries(r.env)) run = run.withEnvVariable(k, v);
  run = run.withUser(r.user).withExec(["sh", "-ec", check.script]);
  return r.readOnlyRoot ? run.withUser("root").withExec(["sh", "-ec", scanWrites(r)]) : run;
}

/** The scan's own files, kept out of what it scans. */
const SCAN_DIR = "/.pg-images-scan";

/**
 * What find leaves out: the kernel's and the engine's filesystems, the writable paths, the scan's
 * files, and those the engine writes itself for every exec (Docker and Kubernetes mount them too).
 */
function prunes(r: Runtime): string {
  const paths = ["/proc", "/sys", "/dev", ...r.tmpfs, ...r.volumes, SCAN_DIR, "/etc/hosts", "/etc/resolv.conf", "/etc/hostname", "/.init"];
  return `\\( ${paths.map((p) => `-path '${p}'`).join(" -o ")} \\) -prune`;
}

/** Shell, as root before the check: mount points (tmpfs ones 0777), the directory list, the marker. */
export function prepareScan(r: Runtime): string {
  return [
    `mkdir -p ${[...r.tmpfs, ...r.volumes].map((p) => `'${p}'`).join(" ")} ${SCAN_DIR}`,
    `chmod 0777 ${r.tmpfs.map((p) => `'${p}'`).join(" ")}`,
    `find / -xdev ${prunes(r)} -o -type d -print > ${SCAN_DIR}/dirs`,
    // Touched twice: the second sets its mtime alone, after its directory's.
    `touch ${SCAN_DIR}/marker && touch ${SCAN_DIR}/marker`,
  ].join("\n");
}

/** Shell, as root after the check: fails listing what was written outside the writable paths. */
export function scanWrites(r: Runtime): string {
  const writable = [...r.tmpfs, ...r.volumes].join(", ");
  return [
    `w=$( { find / -xdev ${prunes(r)} -o ! -type d -newer ${SCAN_DIR}/marker -print; find / -xdev ${prunes(r)} -o -type d -print | grep -vxF -f ${SCAN_DIR}/dirs; } | sort)`,
    `[ -z "$w" ] || { echo "written outside the writable paths (${writable}), on a root filesystem meant read-only: $(echo "$w" | head -20 | tr '\\n' ' ')"; exit 1; }`,
  ].join("\n");
}

async function configChecks(image: Container, recipe: Recipe): Promise<CheckResult[]> {
  if (!recipe.config) return [];
  const [user, entrypoint] = await Promise.all([image.user(), image.entrypoint()]);
  const want = recipe.config;
  return [
    user === want.user ? { name: `image user is ${want.user}`, ok: true } : { name: `image user is ${want.user}`, ok: false, detail: `image user is "${user}"` },
    JSON.stringify(entrypoint) === JSON.stringify(want.entrypoint)
      ? { name: "image entrypoint", ok: true }
      : { name: "image entrypoint", ok: false, detail: `entrypoint is ${JSON.stringify(entrypoint)}, expected ${JSON.stringify(want.entrypoint)}` },
  ];
}

/** SPDX and CycloneDX JSON from syft for one platform, scanning the tarball that gets pushed. */
export function sbom(tarball: File, syftImage: string, platform: Platform, paths: Sbom["paths"]): Sbom {
  const scanned = dag
    .container()
    .from(syftImage)
    .withEnvVariable("SYFT_CHECK_FOR_APP_UPDATE", "false")
    .withMountedFile("/image.tar", tarball)
    .withExec(["/syft", "scan", "oci-archive:/image.tar", "--platform", platform, "-q", "-o", "spdx-json=/tmp/sbom.spdx.json", "-o", "cyclonedx-json=/tmp/sbom.cdx.json"]);
  return { platform, spdx: scanned.file("/tmp/sbom.spdx.json"), cyclonedx: scanned.file("/tmp/sbom.cdx.json"), paths };
}

/** How the engine's export becomes the artefact that is tested, scanned, signed and pushed. */
export interface Finish {
  /** Digest-pinned crane image with a shell (busybox): tar and sed run there when nothing is normalised. */
  crane: string;
  /** Digest-pinned regctl image (the binary at REGCTL_BINARY); without it times stay as the engine wrote them. */
  regctl?: string | undefined;
  /**
   * The chain's base image (digest-pinned, with GNU tar, gzip, find and sort, as Debian's are):
   * the layers are rewritten there, so the tools that write them are an input of the target.
   */
  layerTools?: string | undefined;
  /** The epoch in seconds, as text: later times in layers, config and history become it. */
  epoch?: File | undefined;
  /** Written on the image index (several platforms): Dagger writes them on each manifest only. */
  indexAnnotations?: Record<string, string> | undefined;
}

/** Where regctl's own image (ghcr.io/regclient/regctl) keeps the binary. */
export const REGCTL_BINARY = "/regctl";

/**
 * The export made byte-stable and complete, in one exec on the tarball: the config and its history
 * times set to the epoch (`regctl image mod --config-time`), every layer rewritten in a canonical
 * form (CANONICAL_LAYERS); then the annotations written on the index. Returns the
 * tarball unchanged when there is nothing to do.
 */
export function finishTarball(tarball: File, finish: Finish): File {
  const normalize = finish.regctl !== undefined && finish.epoch !== undefined && finish.layerTools !== undefined;
  const annotate = finish.indexAnnotations !== undefined;
  if (!normalize && !annotate) return tarball;
  let c = dag.container().from(normalize ? finish.layerTools! : finish.crane).withUser("root").withMountedFile("/in.tar", tarball);
  if (normalize) {
    c = c
      .withFile("/usr/local/bin/regctl", dag.container().from(finish.regctl!).file(REGCTL_BINARY), { permissions: 0o755 })
      .withMountedFile("/epoch", finish.epoch!)
      .withMountedCache(CANONICAL_CACHE_AT, dag.cacheVolume(canonicalCacheName(finish.layerTools!)));
  }
  if (annotate) c = c.withEnvVariable("ANNOTATIONS", JSON.stringify(finish.indexAnnotations));
  const script = ["mkdir /work && tar -xf /in.tar -C /work && cd /work", ...(normalize ? [NORMALIZE_LAYOUT, CANONICAL_LAYERS] : []), ...(annotate ? [ANNOTATE_INDEX] : []), "tar -cf /image.tar $(ls)"].join("\n");
  return c.withNewFile("/finish.sh", script).withExec(["sh", "-e", "/finish.sh"]).file("/image.tar");
}

// Rewriting a layer is the costly part (unpack, write again, gzip), and most layers of an export
// are ones an earlier export held: the parent's, the base's, the same target's under new labels.
// So each canonical layer is kept in a cache volume, by the engine's blob digest and the epoch;
// the volume's name follows the script and the image that writes the layers, so the entries are
// always what this script would write there.
const CANONICAL_CACHE_AT = "/var/cache/pg-images/canonical-layers";
const canonicalCacheName = (layerTools: string) =>
  `pg-images-canonical-layers-${createHash("sha256").update(`${layerTools}\n${CANONICAL_LAYERS}`).digest("hex").slice(0, 16)}`;

// Shell for finishTarball, in /work after NORMALIZE_LAYOUT (one image and its blobs; the epoch
// in $e). JSON is edited with its newlines taken out (JSON strings hold none) and blanks between
// tokens allowed, as the engine writes it indented and regctl compact. The engine writes a layer's tar from whatever it holds: the blob it
// pulled, or a new diff of a snapshot restored from its cache, with other entry order, "./"
// prefixes, root entry and hard-link direction. So every layer is unpacked and written again
// canonically: entries in byte order of their names (no "./", no root entry), numeric owners
// only, each hard link pointing at the first name of its group in that order, times after the
// epoch clamped to it, no atime or ctime, gzip without name or time. Each config's diff_ids and
// each manifest's descriptors follow; history loses created_by, which a restored snapshot no
// longer knows; then the index and index.json follow, and the replaced blobs go.
const CANONICAL_LAYERS = String.raw`sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { wc -c < "$1" | tr -d ' '; }
# Replace a blob by a new file: store it, then rewrite every reference in the given JSON blob.
swap() { # old-hex new-file json-blob-path; prints the new hex
  new=$(sha "$2"); n=$(size "$2"); o=$(size "blobs/sha256/$1")
  mv "$2" "blobs/sha256/$new"
  [ "$new" = "$1" ] || echo "$1" >> /tmp/replaced
  sed -i -E "s/\"digest\": *\"sha256:$1\", *\"size\": *$o([^0-9])/\"digest\":\"sha256:$new\",\"size\":$n\1/g; s/\"size\": *$o, *\"digest\": *\"sha256:$1\"/\"size\":$n,\"digest\":\"sha256:$new\"/g" "$3"
  grep -q "sha256:$new" "$3" || { echo "no descriptor of sha256:$1 (size $o) in $3"; exit 1; }
  echo "$new"
}
canon_layer() { # layer hex; writes /tmp/layer.tgz and prints its diff_id
  c="${CANONICAL_CACHE_AT}/$e/$1"
  if [ -f "$c.diffid" ]; then cp "$c.tgz" /tmp/layer.tgz && cat "$c.diffid" && return; fi
  rm -rf /l /tmp/tarpipe /tmp/failed && mkdir /l && mkfifo /tmp/tarpipe
  { gzip -dc "blobs/sha256/$1" || echo "unpacking layer $1" > /tmp/failed; } | tar -x -f - -C /l --numeric-owner --same-owner -p --xattrs --xattrs-include='*'
  (cd /l && find . -mindepth 1 -printf '%P\0' | LC_ALL=C sort -z > /tmp/list)
  sha256sum < /tmp/tarpipe | cut -d' ' -f1 > /tmp/diffid &
  { tar -c -f - -C /l --null --no-recursion -T /tmp/list --numeric-owner --format=posix \
      --pax-option='exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime' --mtime="@$e" --clamp-mtime --xattrs --xattrs-include='*' \
      || echo "writing layer $1" > /tmp/failed; } | tee /tmp/tarpipe | gzip -n > /tmp/layer.tgz
  wait
  [ ! -e /tmp/failed ] || { cat /tmp/failed; exit 1; }
  rm -rf /l
  # Kept for the next export holding this layer: the layer first, then its diff_id, which says
  # the entry is whole; each by rename, as finishes running at once may write the same entry.
  mkdir -p "${CANONICAL_CACHE_AT}/$e"
  t=$(mktemp "$c.XXXXXX") && cp /tmp/layer.tgz "$t" && mv "$t" "$c.tgz"
  t=$(mktemp "$c.XXXXXX") && cp /tmp/diffid "$t" && mv "$t" "$c.diffid"
  cat /tmp/diffid
}
digests() { tr -d ' \n' < "$1" | grep -o '"digest":"sha256:[0-9a-f]\{64\}"' | cut -d: -f3 | tr -d '"'; }
canon_manifest() { # manifest hex; prints the new manifest hex
  mh=$1; m="blobs/sha256/$1"; tr -d '\n' < "$m" > /tmp/manifest
  cfg=$(sed 's/.*"config": *{[^}]*"digest": *"sha256:\([0-9a-f]*\)".*/\1/' /tmp/manifest)
  [ -f "blobs/sha256/$cfg" ] || { echo "manifest $mh: no config descriptor"; exit 1; }
  tr -d '\n' < "blobs/sha256/$cfg" > /tmp/config
  # The i-th diff_id is the i-th layer's: same content, same old and new ids.
  tr -d ' \n' < /tmp/config | sed 's/.*"diff_ids":\[\([^]]*\)\].*/\1/' | grep -o 'sha256:[0-9a-f]\{64\}' > /tmp/diffids
  i=0
  for l in $(sed 's/.*"layers": *\[\([^]]*\)\].*/\1/' /tmp/manifest | grep -o 'sha256:[0-9a-f]\{64\}' | cut -d: -f2); do
    i=$((i + 1))
    old=$(sed -n "$i"p /tmp/diffids)
    [ -n "$old" ] || { echo "config $cfg has fewer diff_ids than manifest $mh has layers"; exit 1; }
    new=$(canon_layer "$l")
    sed -i "s/\"$old\"/\"sha256:$new\"/g" /tmp/config
    swap "$l" /tmp/layer.tgz /tmp/manifest >/dev/null
  done
  sed -i -E 's/, *"created_by": *"([^"\\]|\\.)*"//g' /tmp/config
  swap "$cfg" /tmp/config /tmp/manifest >/dev/null
  swap "$mh" /tmp/manifest /tmp/outer
}
tr -d '\n' < index.json > /tmp/index.json && mv /tmp/index.json index.json
top=$(digests index.json | head -n 1)
cp index.json /tmp/outer
if grep -q 'image.index.v1+json' "blobs/sha256/$top"; then
  tr -d '\n' < "blobs/sha256/$top" > /tmp/outer_index
  for m in $(digests "blobs/sha256/$top"); do
    cp /tmp/outer_index /tmp/outer; canon_manifest "$m" >/dev/null; cp /tmp/outer /tmp/outer_index
  done
  cp index.json /tmp/outer
  swap "$top" /tmp/outer_index /tmp/outer >/dev/null
else
  canon_manifest "$top" >/dev/null
fi
mv /tmp/outer index.json
# What nothing points at any more goes (a layer used twice is replaced twice, removed once).
[ ! -f /tmp/replaced ] || sort -u /tmp/replaced | while read -r h; do rm -f "blobs/sha256/$h"; done
`;

// Shell for finishTarball, in /work (the OCI layout as the engine exported it). regctl sets the
// config's and its history's times (and each platform's under an index) into the same layout
// under a tag; a copy to a fresh layout keeps only that image's blobs.
const NORMALIZE_LAYOUT = `e=$(cat /epoch)
case "$e" in ''|*[!0-9]*) echo "epoch is not a number of seconds: '$e'"; exit 1;; esac
t=$(date -u -d "@$e" +%Y-%m-%dT%H:%M:%SZ)
d=$(tr -d ' \\n' < index.json | grep -o '"digest":"sha256:[0-9a-f]\\{64\\}"' | head -n 1 | cut -d'"' -f4)
[ -n "$d" ] || { echo "no image in index.json: $(cat index.json)"; exit 1; }
regctl image mod "ocidir:///work@$d" --create normalized --config-time "set=$t,after=$t" --to-oci >/dev/null
src=ocidir:///work:normalized
# With nothing to change, regctl makes no tag: the image is already as it should be.
regctl image digest "$src" >/dev/null 2>&1 || src="ocidir:///work@$d"
regctl image copy "$src" ocidir:///out:normalized >/dev/null
cd / && rm -rf /work && mv /out /work && cd /work
# index.json as the engine writes it: regctl's tag and time stay out of the artefact.
sed -i 's/,"annotations":{[^}]*}//' index.json`;

// Shell for finishTarball, in /work: index.json points at the image index blob, which Dagger
// writes without annotations of its own; "annotations" is added as its last member, the blob is
// stored under its new digest and index.json is written anew to point at it (the layout holds that
// one index and nothing else).
const ANNOTATE_INDEX = `old=$(sed -n 's/.*"digest":"sha256:\\([0-9a-f]*\\)".*/\\1/p' index.json)
f="blobs/sha256/$old"
[ -n "$old" ] && [ -f "$f" ] && [ "$(tail -c 1 "$f")" = "}" ] || { echo "no image index in index.json: $(cat index.json)"; exit 1; }
n=$(wc -c < "$f")
{ head -c $((n - 1)) "$f"; printf ',"annotations":%s}' "$ANNOTATIONS"; } > /tmp/index
new=$(sha256sum /tmp/index | cut -d' ' -f1)
size=$(wc -c < /tmp/index)
mv /tmp/index "blobs/sha256/$new" && rm "$f"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:%s","size":%s}]}' "$new" "$size" > index.json`;

/**
 * The epoch of a chain: the newest file time in its base image's filesystem, in seconds. It is
 * fixed by the base's digest, so equal inputs give an equal epoch on any engine, and it
 * predates every step built on the base. For Debian's official images (every time clamped to the
 * snapshot's) it is that snapshot time; the base's config time is not used, as many bases leave
 * it at zero. The base's files are read as a mounted directory, not an export: the exec's cache
 * key is the base's digest, so every step that mounts the epoch stays cached from run to run.
 */
export function baseEpoch(base: Container, toolImage: string): File {
  return dag
    .container()
    .from(toolImage)
    .withMountedDirectory("/base", base.rootfs())
    .withNewFile("/epoch.sh", BASE_EPOCH)
    .withExec(["sh", "-e", "/epoch.sh"])
    .file("/epoch");
}

// Shell for baseEpoch (busybox or GNU tools): the newest modification time of anything under the
// base's root (symbolic links themselves, not what they point at), the root directory left out.
const BASE_EPOCH = `newest=$(find /base -mindepth 1 -exec stat -c %Y {} + | sort -n | tail -n 1)
case "$newest" in ''|*[!0-9]*) echo "base image: no file times in its filesystem"; exit 1;; esac
echo "$newest" > /epoch`;

/** Unpacked size in bytes: the filesystem as a container sees it. */
export async function unpackedSize(image: Container): Promise<number> {
  const out = await image.withUser("root").withExec(["du", "-sxb", "/"]).stdout();
  return Number(out.split(/\s+/)[0]);
}

/** Seconds since a Date.now() reading, to a tenth, for reports. */
export function secondsSince(start: number): number {
  return Math.round((Date.now() - start) / 100) / 10;
}

/**
 * A failed exec, told by its name: under `dagger call` the SDK library the runtime generates
 * exports no ExecError class to test with instanceof (the npm package does).
 */
export function isExecError(e: unknown): e is Error & { stdout: string; stderr: string; exitCode: number } {
  return e instanceof Error && e.name === "ExecError";
}

/** The end of what a failed step said, for reports. */
export function failure(e: unknown): string {
  if (isExecError(e)) {
    const text = `${e.stdout}\n${e.stderr}`.trim().split("\n").slice(-15).join("\n");
    return `exit ${e.exitCode}: ${text}`;
  }
  return e instanceof Error ? e.message : String(e);
}

export type TargetStatus = "passed" | "failed" | "blocked" | "unchanged";

export interface TargetResult {
  id: string;
  status: TargetStatus;
  inputKey: string;
  /** What publish pushed (the index with its attestations), or for build-all the image built. */
  digest?: string;
  /** Each platform's image manifest digest: what the reproducibility promise covers. */
  manifests?: Record<string, string>;
  size?: number;
  checks: CheckResult[];
  /** Paths in the output directory: the first platform's SBOM. */
  sbom?: { spdx: string; cyclonedx: string };
  /** Every platform's SBOM paths, by platform. */
  sboms?: Record<string, { spdx: string; cyclonedx: string }>;
  seconds: number;
  /** Why it failed, was blocked, or was skipped. */
  reason?: string;
  /** Why it was built and published: what changed against the first alias (publish). */
  change?: string;
  /** Filled by publish. */
  published?: string[];
  /** Digest references signed, with their SBOM and provenance attested (publish with signing). */
  signed?: string[];
  gate?: string;
}
