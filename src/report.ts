// The object build-all and publish return.
import { type Directory, func, object } from "@dagger.io/dagger";
import { type RunVerdict, verdictMessage } from "./release/verdict.js";

/**
 * A run's report, and a check that fails when any target failed or was blocked: a CI job goes
 * red, and the report can still be exported (`directory`).
 */
@object()
export class Report {
  /** summary.txt: a line per target, the counts, and why anything did not pass. */
  @func()
  summary: string;

  /** Targets that failed or were blocked; empty when every target passed or was unchanged. */
  @func()
  failed: string[];

  /** Everything the run wrote: summary.txt, summary.json, sbom/, notes/, catalogs/. */
  @func()
  directory: Directory;

  constructor(summary: string, failed: string[], directory: Directory) {
    this.summary = summary;
    this.failed = failed;
    this.directory = directory;
  }

  /**
   * The report directory when every target passed or was unchanged; otherwise an error that
   * names the targets and carries the summary, so the call exits non-zero.
   *
   * Example usage: dagger call build-all check export --path ./out
   */
  @func()
  check(): Directory {
    const verdict: RunVerdict = { summary: this.summary, failed: this.failed };
    if (this.failed.length > 0) throw new Error(verdictMessage(verdict));
    return this.directory;
  }
}
