// The catalogs' registry facts: for every operand target of the whole matrix, the image its
// aliases point at now, by the newest unique release tag that holds it. What the aliases point at
// is what the gate let through; a unique tag pushed for a candidate the gate held back is never
// named. Every release job, and the final catalogs job, writes the same files from the same facts.
import { KINDS } from "../kinds.js";
import type { Matrix } from "../matrix/schema.js";
import type { PlannedTarget } from "../plan/types.js";
import { tagVersion } from "../plan/tags.js";
import { catalogPublisher, clusterImageCatalogs, type RegistryImage } from "../release/catalog.js";
import { templatePattern } from "../release/retention.js";
import type { RegistryClient } from "./registry.js";

/** catalogs/<file> → YAML, plus catalogs/left-out.txt when a major has no released image. */
export async function catalogFiles(matrix: Matrix, targets: readonly PlannedTarget[], registry: RegistryClient): Promise<Record<string, string>> {
  const tagLists = new Map<string, Promise<string[]>>();
  const listed = (repository: string) => {
    if (!tagLists.has(repository)) tagLists.set(repository, registry.listTags(repository).catch(() => []));
    return tagLists.get(repository)!;
  };
  const templates = new Map(matrix.images.map((i) => [i.id, { ...KINDS[i.kind].tags, ...i.tags }.release]));
  const operands = targets.filter((t) => t.kind === "operand" && t.push && t.postgres[0] && !t.postgres[0].preview);
  const missing: string[] = [];
  const found = await Promise.all(
    operands.map(async (t): Promise<RegistryImage[]> => {
      const repository = t.repository.release;
      const pointed = new Set((await Promise.all(t.tags.aliases.map((a) => registry.digest(`${repository}:${a}`)))).filter((d): d is string => !!d));
      const pg = t.postgres[0]!;
      const template = templates.get(t.image)!;
      const pattern = templatePattern(template, { major: String(pg.major), version: tagVersion(pg), flavour: t.flavour, distro: t.distro });
      if (pointed.size > 0 && pattern) {
        // Newest first: the timestamp is the pattern's first group.
        const unique = (await listed(repository)).filter((tag) => pattern.test(tag)).sort((a, b) => (pattern.exec(b)![1]! < pattern.exec(a)![1]! ? -1 : 1));
        for (const tag of unique) {
          const digest = await registry.digest(`${repository}:${tag}`);
          if (!digest || !pointed.has(digest)) continue;
          const labels = (await registry.labels(`${repository}@${digest}`)) ?? {};
          return [{ repository, digest, tags: [tag], labels, releaseTemplate: template }];
        }
      }
      missing.push(`${t.id}: no released image in ${repository} that its aliases (${t.tags.aliases.join(", ")}) point at; PostgreSQL ${pg.major} is not in catalog-${t.flavour}-${t.distro}.yaml`);
      return [];
    }),
  );
  const result = clusterImageCatalogs(found.flat(), { publisher: catalogPublisher(matrix.metadata) });
  const files: Record<string, string> = {};
  for (const [name, yaml] of result.files) files[`catalogs/${name}`] = yaml;
  const leftOut = [...missing.sort(), ...result.leftOut.map((l) => `${l.image}: ${l.reason}`)];
  if (leftOut.length > 0) files["catalogs/left-out.txt"] = leftOut.join("\n") + "\n";
  return files;
}
