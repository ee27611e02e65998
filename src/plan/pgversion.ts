// PostgreSQL release numbers in order, previews included. Not semver (19.0 is not 19.0.0, and
// "19~beta1" is Debian's spelling): each version maps to a tuple compared left to right,
//
//   19~alpha1 → (19, -3, 1)   19~beta2 → (19, -2, 2)   19~rc1 → (19, -1, 1)   19.0 → (19, 0, 0)   19.3 → (19, 0, 3)
//
// so 19~beta1 < 19~beta2 < 19~rc1 < 19.0 < 19.1, the same order dpkg gives the packages.

const STAGES = { alpha: -3, beta: -2, rc: -1 } as const;

export interface PgRelease {
  major: number;
  /** alpha, beta or rc for a preview; undefined for a final release. */
  stage?: keyof typeof STAGES;
  /** The minor of a final release, or the preview's number. */
  number: number;
}

/** "17.9", "19~beta1" → its parts, or undefined for anything else. */
export function parsePgVersion(text: string): PgRelease | undefined {
  const m = /^(\d+)(?:\.(\d+)|~(alpha|beta|rc)(\d+))$/.exec(text);
  if (!m) return undefined;
  const stage = m[3] as PgRelease["stage"];
  return { major: Number(m[1]), ...(stage ? { stage } : {}), number: Number(m[2] ?? m[4]) };
}

/** Negative when a is older than b; throws on text that is not a PostgreSQL version. */
export function comparePgVersions(a: string, b: string): number {
  const [pa, pb] = [a, b].map((v) => {
    const p = parsePgVersion(v);
    if (!p) throw new Error(`"${v}" is not a PostgreSQL version such as 17.9 or 19~beta1`);
    return [p.major, p.stage ? STAGES[p.stage] : 0, p.number];
  });
  for (let i = 0; i < 3; i++) if (pa![i] !== pb![i]) return Math.sign(pa![i]! - pb![i]!);
  return 0;
}
