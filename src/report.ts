// The objects the module's functions return.
import { type Directory, type File, func, object } from "@dagger.io/dagger";
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

/** What bump-pins found: the pins it moved and why others stayed, and matrix.yaml with the moves. */
@object()
export class PinBumps {
  /** One line per pin: `postgres.0.version: 17.9 → 17.10`, or why it was kept. */
  @func()
  report: string;

  /** Pins that moved, as `<key path> <from> <to>`; empty when none did. */
  @func()
  bumped: string[];

  /** matrix.yaml with the new pins, comments and layout kept (the same file when nothing moved). */
  @func()
  matrix: File;

  constructor(report: string, bumped: string[], matrix: File) {
    this.report = report;
    this.bumped = bumped;
    this.matrix = matrix;
  }
}
