#!/usr/bin/env bash
# Let this machine run linux/arm64 binaries: Debian's qemu-user-static,
# registered with binfmt_misc with the F (fix-binary) flag. With F the kernel
# opens the interpreter once, at registration, so containers (Docker's and the
# Dagger engine's runc) run arm64 images without qemu inside them. binfmt_misc
# belongs to the host kernel: running engines see a registration at once and
# need no restart.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# Architectures besides the host's that images are built for.
EMULATED=(aarch64)
binfmt=/proc/sys/fs/binfmt_misc

# No binfmt-support: its registrations are made by a boot service, which a
# fresh CI machine or a container has not run; this script registers instead.
need_packages qemu-user-static

if ! grep -q " $binfmt binfmt_misc " /proc/mounts; then
  log "mounting binfmt_misc on $binfmt"
  mount -t binfmt_misc binfmt_misc "$binfmt"
fi
[[ $(cat "$binfmt/status") == enabled ]] || echo 1 >"$binfmt/status"

for arch in "${EMULATED[@]}"; do
  # The package's own rule (magic, mask, interpreter, flags OPF) for systemd-binfmt.
  conf=/usr/lib/binfmt.d/qemu-$arch.conf entry=$binfmt/qemu-$arch
  [[ -f $conf ]] || die "$conf missing: qemu-user-static has no rule for $arch"
  interpreter=$(cut -d: -f7 "$conf")
  [[ $(cut -d: -f8 "$conf") == *F* ]] || die "$conf: no F flag; containers would need qemu inside them"
  if [[ -f $entry ]] && grep -qx enabled "$entry" && grep -qx "interpreter $interpreter" "$entry" &&
    grep -q '^flags: .*F' "$entry"; then
    log "qemu-$arch already registered ($(grep '^flags' "$entry"))"
    continue
  fi
  # A rule left by another tool (without F, or another interpreter) is replaced.
  if [[ -f $entry ]]; then echo -1 >"$entry"; fi
  log "registering qemu-$arch ($interpreter, flags $(cut -d: -f8 "$conf"))"
  tr -d '\n' <"$conf" >"$binfmt/register"
done
