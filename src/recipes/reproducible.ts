// Same inputs, same bytes: what a package step leaves that depends on the clock or on chance is
// removed or set from the epoch, in the same step (a later step would leave it in the layer
// below). The epoch reaches each step as SOURCE_DATE_EPOCH (both renderers export it into the
// step, never into the image's environment); without it the files are still removed, but times
// are left as they are. Pure: returns shell text, runs nothing.
import type { RunStep } from "./types.js";

/** The variable each run step gets the epoch in: the name Debian's tools (and shadow's useradd) read. */
export const EPOCH_VAR = "SOURCE_DATE_EPOCH";

/** Shell run at the end of a package step (sh -e, as root). */
export const NORMALIZE = [
  // Logs of this very install: times and the order parallel triggers ran in.
  "rm -f /var/log/dpkg.log /var/log/alternatives.log",
  "rm -rf /var/log/apt/*",
  // ldconfig's cache of inode numbers and times; ld.so.cache itself is derived from the libraries.
  "rm -f /var/cache/ldconfig/aux-cache",
  // Backups dpkg and debconf write of their own databases before a change.
  "rm -f /var/lib/dpkg/*-old /var/cache/debconf/*-old",
  // ssl-cert's postinst (postgresql-common depends on it) makes a random private key and its
  // certificate: no image ships a key; one needing TLS gets its certificate from its operator.
  "rm -f /etc/ssl/private/ssl-cert-snakeoil.key /etc/ssl/certs/ssl-cert-snakeoil.pem",
  "[ ! -d /etc/ssl/certs ] || find /etc/ssl/certs -maxdepth 1 -xtype l -delete",
  // A machine id is made at first boot; an empty file says so (systemd's convention).
  "if [ -s /etc/machine-id ]; then : > /etc/machine-id; fi",
  "rm -f /var/lib/dbus/machine-id",
  // Byte-compiled Python embeds the source's time; the interpreter compiles again on import.
  "find / -xdev -depth -type d -name __pycache__ -exec rm -rf {} +",
  `if [ -n "\${${EPOCH_VAR}:-}" ]; then`,
  // Field 3 of /etc/shadow is the day of the last password change: no later than the epoch's.
  `  day=$((${EPOCH_VAR} / 86400))`,
  `  for f in /etc/shadow /etc/shadow-; do`,
  `    [ -f "$f" ] || continue`,
  `    awk -F: -v OFS=: -v d="$day" '$3 ~ /^[0-9]+$/ && $3 > d { $3 = d } 1' "$f" > "$f.tmp" && cat "$f.tmp" > "$f" && rm "$f.tmp"`,
  `  done`,
  // Every time newer than the epoch becomes the epoch: what this step wrote or touched. Mount
  // points (/proc, /etc/resolv.conf, the build's own mounts) are left alone.
  `  set --`,
  `  for m in $(awk '$5 != "/" { print $5 }' /proc/self/mountinfo); do set -- "$@" -path "$m" -prune -o; done`,
  `  find / -xdev "$@" -newermt "@\${${EPOCH_VAR}}" -exec touch -h -d "@\${${EPOCH_VAR}}" {} +`,
  `fi`,
].join("\n");

/** A package step with the normalisation after its script, in the same step (so the same layer); what it asks apt for stays. */
export function reproducible(step: RunStep | string): RunStep {
  const run = typeof step === "string" ? { op: "run" as const, script: step } : step;
  return { ...run, script: `${run.script}\n${NORMALIZE}` };
}
