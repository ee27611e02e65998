// The verdict over a run: which targets make it fail. One definition for every entry (the
// module's Report.check, the client-mode runner), so they cannot disagree on what is red.

export interface RunVerdict {
  /** summary.txt of the run. */
  summary: string;
  /** Ids of the targets that failed or were blocked. */
  failed: string[];
}

/** Failed and blocked targets fail a run; passed and unchanged ones do not. */
export function failedTargets(results: readonly { id: string; status: string }[]): string[] {
  return results.filter((r) => r.status === "failed" || r.status === "blocked").map((r) => r.id);
}

/** What a failing run says: the targets first (the line a CI log shows), then the summary. */
export function verdictMessage(v: RunVerdict): string {
  const n = v.failed.length;
  return `${n} target${n === 1 ? "" : "s"} did not pass: ${v.failed.join(", ")}\n\n${v.summary}`;
}
