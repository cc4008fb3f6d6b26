#!/usr/bin/env bash
# Installs the Debian packages the real-runtime environment needs (containerd, runc, CNI plugins, the dynamic
# busybox for test images, docker-registry, gcc for the pause binary). Idempotent: only missing packages are
# installed. The harness runs its own private containerd and registry, so the packaged services must not start:
# a policy-rc.d that denies service starts is in place for the duration of the install.
#
# Not root or not Debian: prints what to install and exits 0; the containerd test project then fails with a
# message saying what to do (it is never skipped).
set -euo pipefail

# Keep in sync with ci/system-deps.ts (REQUIRED_PACKAGES), which checks the same list at test time.
packages=(
  containerd                   # the runtime under test (ships ctr)
  runc                         # OCI runtime used by the runc.v2 shim
  containernetworking-plugins  # bridge, host-local, portmap, loopback in /usr/lib/cni
  busybox                      # dynamic busybox: applets become hard links in the test image
  docker-registry              # local registry the test images are pushed to
  iproute2                     # ip netns / ip link for teardown
  iptables                     # used by the bridge (ipMasq) and portmap plugins
  gcc                          # compiles the pause binary for the pause image
  libc6-dev                    # static libc for that binary
  tar
  util-linux                   # umount, mount
  procps
)

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done

# kubectl drives the mock API server's kubectl specs. Machine images of this kind ship /usr/bin/kubectl; where it is
# absent, Debian's kubernetes-client package provides one (v1.20, enough for get/describe/watch).
if ! command -v kubectl >/dev/null 2>&1; then missing+=(kubernetes-client); fi

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-system-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [[ ! -f /etc/debian_version ]] || ! command -v apt-get >/dev/null; then
  echo "install-system-deps: not a Debian system; install the equivalents of: ${missing[*]}" >&2
  echo "install-system-deps: or point the suite at a running runtime with CRI_ENDPOINT=unix:///path/to/cri.sock" >&2
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-system-deps: not root; as root run: apt-get install -y ${missing[*]}" >&2
  echo "install-system-deps: or point the suite at a running runtime with CRI_ENDPOINT=unix:///path/to/cri.sock" >&2
  exit 0
fi

# Deny service starts during the install unless the machine already has a policy (container images often do).
policy=/usr/sbin/policy-rc.d
created_policy=false
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\n# kubelet-harness: temporary, no service starts during package install\nexit 101\n' >"$policy"
  chmod 0755 "$policy"
  created_policy=true
fi
cleanup() { if $created_policy; then rm -f "$policy"; fi; }
trap cleanup EXIT

echo "install-system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Refresh the package lists only when they are absent or an install fails on stale lists.
if ! compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null; then apt-get update -q; fi
if ! apt-get install -y -q --no-install-recommends "${missing[@]}"; then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# If a service manager started the packaged daemons anyway (policy ignored), stop them and keep them disabled:
# the harness runs private instances and a stray system containerd confuses CNI and cgroup state.
if [[ -d /run/systemd/system ]]; then
  for unit in containerd docker-registry; do
    if systemctl is-active --quiet "$unit" 2>/dev/null; then
      systemctl stop "$unit" || true
      systemctl disable "$unit" 2>/dev/null || true
      echo "install-system-deps: stopped and disabled the packaged $unit service"
    fi
  done
fi
echo "install-system-deps: done"
