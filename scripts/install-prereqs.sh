#!/usr/bin/env bash
# Installs the Debian packages the build and the test bed need, when they are missing.
# Needs root (CI and the dev machines run as root); otherwise names what is missing and fails.
set -euo pipefail

need=()
command -v protoc >/dev/null || need+=(protobuf-compiler libprotobuf-dev)
command -v containerd >/dev/null || need+=(containerd)
command -v runc >/dev/null || need+=(runc)
[ -x /bin/busybox ] || command -v busybox >/dev/null || need+=(busybox-static)
[ -x /usr/lib/cni/bridge ] || need+=(containernetworking-plugins)
command -v ip >/dev/null || need+=(iproute2)
command -v prometheus >/dev/null || need+=(prometheus)
# The images (scripts/build-images.sh): buildah builds the Dockerfiles without a Docker engine, mmdebstrap
# the Debian root of the Node base image, gcc (with its static libc) the pause binary.
command -v buildah >/dev/null || need+=(buildah)
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v gcc >/dev/null || need+=(gcc)
dpkg-query -W -f='${Status}' libc6-dev 2>/dev/null | grep -q 'ok installed' || need+=(libc6-dev)
command -v flock >/dev/null || need+=(util-linux)
# The bed's cluster mode: kube-proxy's and the kubelet's rules (iptables), unshare (util-linux) for the
# node's private mount namespace.
command -v iptables >/dev/null || need+=(iptables)
command -v unshare >/dev/null || need+=(util-linux)
# The cluster bed's --netpol: kube-router's network-policy controller keeps its address sets with ipset.
command -v ipset >/dev/null || need+=(ipset)
# CRI-O, the plain bed's second runtime (cli.js run --runtime cri-o): its container monitor. Its OCI runtime
# is runc above (bookworm's crun 1.8 refuses CRI-O 1.34's bundles: test/testbed/crio.ts).
command -v conmon >/dev/null || need+=(conmon)

if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "install-prereqs: missing Debian packages: ${need[*]} (run as root, or apt-get install them)" >&2
  exit 1
fi
echo "install-prereqs: installing ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# --no-install-recommends keeps prometheus from pulling node-exporter and friends.
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
