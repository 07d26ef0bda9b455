#!/bin/sh
# One kernel's benchmark, as `meson test --benchmark` runs it (tests/meson.build registers one
# per line of kernels/kernels.inc): `tritbench bench kernels` on the 2B4T shapes, few rounds.
# Exit 77 (skip) with the reason when the CPU cannot run the kernel, or under emulation, where
# times mean nothing.
# Usage: tests/bench_kernel.sh TRITBENCH KERNEL
set -u
tritbench=$1 kernel=$2
if [ "${TB_EMULATED:-0}" = 1 ]; then
  echo "SKIP $kernel: emulated (qemu-user): times measured there mean nothing"
  exit 77
fi
out=$("$tritbench" bench kernels --kernel "$kernel" --model 2B4T --rounds 5 2>&1)
rc=$?
printf '%s\n' "$out"
# tritbench refuses a kernel the CPU lacks with a usage error (exit 2) saying so.
if [ "$rc" -eq 2 ] && printf '%s\n' "$out" | grep -q "cannot run here"; then
  echo "SKIP $kernel: this CPU cannot run it"
  exit 77
fi
exit "$rc"
