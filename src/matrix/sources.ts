// What each package source can install where: the facts cross-field rules and recipes share.
import type { PackageSource } from "./schema.js";

/**
 * Debian releases with their version numbers (for PGDG's ".pgdgNNN" suffix), own PG major and
 * the one Python their archive carries (python3.N).
 */
export const DEBIAN_RELEASES: Readonly<Record<string, { number: number; pg: number; python: string }>> = {
  bullseye: { number: 11, pg: 13, python: "3.9" },
  bookworm: { number: 12, pg: 15, python: "3.11" },
  trixie: { number: 13, pg: 17, python: "3.13" },
};

/**
 * The release an older major comes from when the `distro` source installs it: the previous
 * Debian release's archive, pinned low so it only supplies what the current one lacks.
 */
export function previousRelease(distro: string): string | undefined {
  const n = DEBIAN_RELEASES[distro]?.number;
  return Object.entries(DEBIAN_RELEASES).find(([, r]) => r.number === (n ?? 0) - 1)?.[0];
}

/**
 * The Debian suite that supplies `major` on `distro`, or undefined when the source has none.
 * pgdg carries every major on every release it supports; a release's own archive carries one,
 * and the previous release's archive supplies the major before it (for pg_upgrade images).
 */
export function suiteFor(source: PackageSource, distro: string, major: number): string | undefined {
  const release = DEBIAN_RELEASES[distro];
  if (!release) return undefined;
  if (source === "pgdg") return `${distro}-pgdg`;
  if (release.pg === major) return distro;
  const previous = previousRelease(distro);
  if (previous && DEBIAN_RELEASES[previous]?.pg === major) return previous;
  return undefined;
}

/** The majors a source offers on a release, for error hints. */
export function majorsOffered(source: PackageSource, distro: string, known: readonly number[]): number[] {
  return known.filter((m) => suiteFor(source, distro, m) !== undefined);
}
