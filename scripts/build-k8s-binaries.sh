#!/usr/bin/env bash
# Builds the pinned control-plane binaries (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kubectl, kwok) from the Go module proxy and caches them outside the repo.
# Idempotent: a binary already in the cache is not rebuilt. Pins live in scripts/pins.env.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=pins.env
source "$HERE/pins.env"

CACHE_ROOT="${OVNKIT_CACHE_DIR:-$HOME/.cache/ovnkit}"
BIN="$CACHE_ROOT/bin-k8s-$K8S_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
WORK="$CACHE_ROOT/build-work"
LOGS="$CACHE_ROOT/build-logs"

say() { printf '[build-k8s] %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

# Answered before anything is created: callers use it only to locate the cache.
if [[ "${1:-}" == "--print-bin-dir" ]]; then echo "$BIN"; exit 0; fi
[[ $# -eq 0 ]] || fail "unknown argument $1 (usage: $0 [--print-bin-dir])"

all=(etcd etcdctl kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)
complete() {
  missing=()
  for b in "${all[@]}"; do [[ -x "$BIN/$b" ]] || missing+=("$b"); done
  [[ -s "$BIN/kwok-stages.yaml" ]] || missing+=(kwok-stages.yaml)
  [[ ${#missing[@]} -eq 0 ]]
}
if complete; then say "all binaries cached in $BIN"; exit 0; fi

mkdir -p "$BIN" "$WORK" "$LOGS"
# One build at a time per cache: two concurrent builds (e.g. two test runs on a fresh clone)
# would race on the same output files and double the 20-minute cost on 2 cores.
if command -v flock >/dev/null; then
  exec 9>"$CACHE_ROOT/build.lock"
  if ! flock -n 9; then
    say "another build holds $CACHE_ROOT/build.lock; waiting for it to finish"
    flock 9
    if complete; then say "all binaries ready in $BIN (built by the other run)"; exit 0; fi
  fi
fi

command -v go >/dev/null || fail "Go is not installed (need go >= 1.26 on PATH)"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
export GOTOOLCHAIN=local
say "building ${missing[*]} into $BIN (cold build takes ~20 min on 2 cores; logs in $LOGS)"

# Runs one step with a heartbeat so nobody stares at a silent terminal.
run_step() {
  local name="$1"; shift
  local log="$LOGS/$name.log"
  local start; start=$(date +%s)
  say "step $name: started ($(uptime | sed 's/.*load average: /load /'))"
  ( "$@" ) >"$log" 2>&1 &
  local pid=$! ticks=0
  # Poll every second (so a step's time is exact and a failure shows at once); heartbeat every 30 s.
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    ticks=$((ticks + 1))
    if (( ticks % 30 == 0 )) && kill -0 "$pid" 2>/dev/null; then
      say "step $name: still running, $(( $(date +%s) - start ))s elapsed"
    fi
  done
  if ! wait "$pid"; then
    tail -n 20 "$log" >&2 || true
    fail "step $name (see $log; is the Go module proxy reachable? GOPROXY=$(go env GOPROXY))"
  fi
  say "step $name: done in $(( $(date +%s) - start ))s"
}

need() { for b in "$@"; do [[ -x "$BIN/$b" ]] || return 0; done; return 1; }

k8s_wrapper() {
  local dir="$WORK/k8s-$K8S_VERSION"
  mkdir -p "$dir"
  if [[ ! -f "$dir/go.sum" ]]; then
    local staging=(api apiextensions-apiserver apimachinery apiserver cli-runtime client-go cloud-provider
      cluster-bootstrap code-generator component-base component-helpers controller-manager cri-api
      cri-client cri-streaming csi-translation-lib dynamic-resource-allocation endpointslice externaljwt
      kms kube-aggregator kube-controller-manager kube-proxy kube-scheduler kubectl kubelet metrics
      mount-utils pod-security-admission sample-apiserver sample-cli-plugin sample-controller streaming)
    {
      echo "module example.local/k8sbins"
      echo "go 1.26.0"
      echo "require k8s.io/kubernetes $K8S_VERSION"
      echo "tool ("
      for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do echo "	k8s.io/kubernetes/cmd/$c"; done
      echo ")"
      echo "replace ("
      for m in "${staging[@]}"; do echo "	k8s.io/$m => k8s.io/$m $K8S_STAGING_VERSION"; done
      echo ")"
    } >"$dir/go.mod"
    run_step k8s-mod-tidy bash -c "cd '$dir' && go mod tidy"
  fi
  echo "$dir"
}

if need kube-apiserver kube-controller-manager kube-scheduler kubectl; then
  dir=$(k8s_wrapper)
  minor=$(echo "$K8S_VERSION" | cut -d. -f2)
  LD="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 \
-X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/component-base/version.gitTreeState=clean \
-X k8s.io/client-go/pkg/version.gitVersion=$K8S_VERSION -X k8s.io/client-go/pkg/version.gitMajor=1 \
-X k8s.io/client-go/pkg/version.gitMinor=$minor"
  for c in kube-apiserver kube-controller-manager kube-scheduler kubectl; do
    [[ -x "$BIN/$c" ]] && continue
    run_step "$c" bash -c "cd '$dir' && go build -trimpath -ldflags '$LD' -o '$BIN/$c.tmp' k8s.io/kubernetes/cmd/$c && mv '$BIN/$c.tmp' '$BIN/$c'"
  done
fi

if need etcd etcdctl; then
  dir="$WORK/etcd-$ETCD_VERSION"
  mkdir -p "$dir"
  if [[ ! -f "$dir/go.sum" ]]; then
    cat >"$dir/go.mod" <<MOD
module example.local/etcdbins

go 1.26.0

require (
	go.etcd.io/etcd/server/v3 $ETCD_VERSION
	go.etcd.io/etcd/etcdctl/v3 $ETCD_VERSION
)

tool (
	go.etcd.io/etcd/server/v3
	go.etcd.io/etcd/etcdctl/v3
)
MOD
    run_step etcd-mod-tidy bash -c "cd '$dir' && go mod tidy"
  fi
  [[ -x "$BIN/etcd" ]] || run_step etcd bash -c "cd '$dir' && go build -trimpath -ldflags '-s -w' -o '$BIN/etcd.tmp' go.etcd.io/etcd/server/v3 && mv '$BIN/etcd.tmp' '$BIN/etcd'"
  [[ -x "$BIN/etcdctl" ]] || run_step etcdctl bash -c "cd '$dir' && go build -trimpath -ldflags '-s -w' -o '$BIN/etcdctl.tmp' go.etcd.io/etcd/etcdctl/v3 && mv '$BIN/etcdctl.tmp' '$BIN/etcdctl'"
fi

if need kwok; then
  run_step kwok bash -c "GOBIN='$WORK/kwok-bin' go install sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION && mv '$WORK/kwok-bin/kwok' '$BIN/kwok'"
fi

# kwok's stage definitions ship inside its module; keep a copy next to the binary.
STAGES="$BIN/kwok-stages.yaml"
if [[ ! -s "$STAGES" ]]; then
  src="$(go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage"
  [[ -d "$src" ]] || run_step kwok-module bash -c "cd '$WORK' && GOFLAGS=-mod=mod go mod download -x sigs.k8s.io/kwok@$KWOK_VERSION"
  {
    first=1
    for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
             pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
      [[ $first -eq 1 ]] || echo "---"
      first=0
      cat "$src/$f"
    done
  } >"$STAGES.tmp"
  mv "$STAGES.tmp" "$STAGES"
fi

say "all binaries ready in $BIN"
