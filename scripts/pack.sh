#!/usr/bin/env bash
# Packs ovnkit the napi-rs way into OUT_DIR:
#   ovnkit-<v>.tgz                          JS (dist/), types, the napi loader native/index.js, no binary
#   ovnkit-binding-linux-x64-gnu-<v>.tgz    @ovnkit/binding-linux-x64-gnu: the .node file only
# Everything happens in a staging copy, so the shared working tree is never edited: the
# optionalDependencies entry that ties the two together exists only in the packed package.json
# (committed, it would break `npm ci` until the platform package is published).
#
# Usage: scripts/pack.sh [--reuse-native] [--ref REF] [--install-project] OUT_DIR
#   --reuse-native  take native/index.js and native/ovnkit.linux-x64-gnu.node as they are
#                   (built by `npm run build:native`) instead of running the napi build
#   --ref REF       pack the sources committed at REF (git archive) instead of the working tree,
#                   e.g. a release tag, or HEAD while others have half-done edits in the tree
#   --install-project  also make OUT_DIR an installable project: package.json depending on both
#                   tarballs, package-lock.json pinning ovnkit's dependencies to the repo's lock
#                   (dev entries dropped, resolved URLs added), so `cd OUT_DIR && npm install
#                   --offline` works from any npm cache holding the tarballs, metadata or not
# Stdout: one line per tarball, "<absolute path> <bytes>". Progress goes to stderr.
# OVNKIT_PACK_KEEP_STAGE=1 keeps the staging directory for inspection.
set -euo pipefail
REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$REPO/.tools/node_modules/.bin:$REPO/node_modules/.bin:$PATH"

say() { printf '[pack] %s\n' "$*" >&2; }
die() { printf '[pack] error: %s\n' "$*" >&2; exit 1; }

usage() { printf '[pack] usage: scripts/pack.sh [--reuse-native] [--ref REF] [--install-project] OUT_DIR\n' >&2; exit 2; }

reuse_native=false
install_project=false
ref=""
out=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --reuse-native) reuse_native=true ;;
    --install-project) install_project=true ;;
    --ref) [[ $# -ge 2 ]] || usage; ref="$2"; shift ;;
    -*) usage ;;
    *) [[ -z "$out" ]] || usage; out="$1" ;;
  esac
  shift
done
[[ -n "$out" ]] || usage
mkdir -p "$out"
out="$(cd "$out" && pwd)"
cd "$REPO"

# napi config: binaryName "ovnkit", one target; the platform directory and the binary's name follow.
PLATFORM=linux-x64-gnu
BINARY="ovnkit.$PLATFORM.node"
PLATFORM_DIR="npm/$PLATFORM"

stage="$(mktemp -d "${TMPDIR:-/tmp}/ovnkit-pack.XXXXXX")"
if [[ "${OVNKIT_PACK_KEEP_STAGE:-}" == 1 ]]; then
  say "keeping staging directory $stage"
else
  trap 'rm -rf "$stage"' EXIT
fi
pkg="$stage/pkg"
native="$stage/native"
mkdir -p "$pkg" "$native"

# The source tree to build from: the working tree, or a clean export of REF.
if [[ -n "$ref" ]]; then
  commit=$(git rev-parse --verify "$ref^{commit}" 2>/dev/null) || die "--ref $ref is not a commit (stage: sources)"
  say "sources: git archive $ref ($commit)"
  mkdir -p "$stage/tree"
  git archive --format=tar "$commit" | tar -x -C "$stage/tree"
  ln -s "$REPO/node_modules" "$stage/tree/node_modules"
  cd "$stage/tree"
  # A fresh source path would otherwise make cargo rebuild every dependency.
  export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO/target}"
else
  say "sources: working tree $REPO"
fi
[[ -f "$PLATFORM_DIR/package.json" ]] || die "missing $PLATFORM_DIR/package.json (stage: platform package)"

# 1. Native addon + its ESM loader.
if $reuse_native; then
  built="$REPO/native"
  for f in index.js "$BINARY"; do
    [[ -f "$built/$f" ]] || die "--reuse-native: native/$f is missing (stage: native; run npm run build:native)"
  done
  newer=$(find "$REPO/crates" "$REPO/Cargo.lock" -newer "$built/$BINARY" -type f 2>/dev/null | wc -l)
  say "native: reusing native/$BINARY ($(stat -c %s "$built/$BINARY") bytes, built $(date -u -r "$built/$BINARY" +%FT%TZ))"
  [[ "$newer" == 0 ]] || say "native: warning: $newer file(s) under crates/ or Cargo.lock are newer than native/$BINARY"
  cp "$built/index.js" "$built/$BINARY" "$native/"
  if [[ -f "$built/index.d.ts" ]]; then cp "$built/index.d.ts" "$native/"; fi
else
  # Same flags as package.json's build:native, but written to the staging copy so a running
  # process that has native/*.node mapped never sees the file rewritten under it.
  say "native: napi build --release (cargo reuses target/ when nothing changed)"
  napi build --platform --release --esm --manifest-path crates/binding/Cargo.toml --output-dir "$native" >&2 \
    || die "native build failed (stage: native)"
fi
[[ -f "$native/$BINARY" ]] || die "the native build produced no $BINARY (stage: native)"

# 2. TypeScript -> dist/ (tsconfig.build.json: rewriteRelativeImportExtensions turns .ts imports
# into .js). No source maps: they would point at src/*.ts, which the package does not ship.
say "dist: tsc -p tsconfig.build.json"
npm run --silent build:ts -- --outDir "$pkg/dist" --sourceMap false >&2 || die "tsc failed (stage: dist)"
main_js="$pkg/dist/cli/main.js"
[[ -f "$main_js" ]] || die "tsc did not emit dist/cli/main.js (stage: dist)"
[[ "$(head -n1 "$main_js")" == '#!/usr/bin/env node' ]] \
  || die "dist/cli/main.js has no '#!/usr/bin/env node' first line (stage: dist; src/cli/main.ts must start with it)"
chmod +x "$main_js"

# 3. The root package's files: package.json's "files" list, dist/ and native/* from the build above.
cp package.json "$pkg/"
[[ -f README.md ]] && cp README.md "$pkg/"
while IFS= read -r entry; do
  case "$entry" in
    dist) ;;
    native/*)
      src="$native/${entry#native/}"
      [[ -f "$src" ]] || die "\"files\" lists $entry but the native build has no $(basename "$entry") (stage: files)"
      mkdir -p "$pkg/native"
      cp "$src" "$pkg/native/"
      ;;
    *)
      [[ -e "$entry" ]] || die "\"files\" lists $entry, which does not exist (stage: files)"
      cp -r --parents "$entry" "$pkg/"
      ;;
  esac
done < <(node -e 'for (const f of JSON.parse(require("fs").readFileSync("package.json", "utf8")).files) console.log(f)')

# 4. The platform package: its manifest from npm/, plus the binary. (`napi artifacts` would also
# write the binary and a loader next to the root package's "main", which here is dist/index.js,
# not a napi loader, so a plain copy is the right tool.)
mkdir -p "$pkg/$PLATFORM_DIR"
cp "$PLATFORM_DIR/package.json" "$PLATFORM_DIR/README.md" "$native/$BINARY" "$pkg/$PLATFORM_DIR/"

version=$(node -p 'require("./package.json").version')
platform_version=$(node -p "require('./$PLATFORM_DIR/package.json').version")
[[ "$version" == "$platform_version" ]] \
  || die "$PLATFORM_DIR/package.json has version $platform_version but the root has $version (stage: versions; run npx napi version)"

# 5. optionalDependencies on the platform package, in the staging copy only. --no-gh-release and
# --skip-optional-publish keep pre-publish from calling GitHub or running npm publish.
say "root: napi pre-publish (optionalDependencies, staging copy only)"
napi pre-publish --cwd "$pkg" -t npm --no-gh-release --skip-optional-publish >&2 || die "napi pre-publish failed (stage: pre-publish)"
node -e '
  const [dir, name, version] = process.argv.slice(1);
  const got = JSON.parse(require("fs").readFileSync(dir + "/package.json", "utf8")).optionalDependencies?.[name];
  if (got !== version) { console.error(`[pack] error: optionalDependencies.${name} is ${got}, expected ${version} (stage: pre-publish)`); process.exit(1); }
' "$pkg" "@ovnkit/binding-$PLATFORM" "$version"

# 6. Tarballs. --ignore-scripts: packing must not run any lifecycle script of the package.
pack_one() {
  local dir="$1" json
  json=$(cd "$dir" && npm pack --ignore-scripts --json --pack-destination "$out" 2>/dev/null) || die "npm pack failed in $dir (stage: pack)"
  node -e '
    const [info] = JSON.parse(process.argv[1]);
    const file = require("path").join(process.argv[2], info.filename);
    console.error(`[pack] ${info.filename}: ${info.size} bytes packed, ${info.unpackedSize} unpacked, ${info.entryCount} files`);
    console.log(`${file} ${info.size}`);
  ' "$json" "$out"
}
root_line=$(pack_one "$pkg")
platform_line=$(pack_one "$pkg/$PLATFORM_DIR")
printf '%s\n%s\n' "$platform_line" "$root_line"

# 7. Optionally, the install project around the tarballs (paths relative, so OUT_DIR can move).
if $install_project; then
  say "install project: $out/package.json, $out/package-lock.json (dependencies pinned by the repo's lock)"
  node -e '
    const fs = require("fs"), path = require("path");
    const [out, lockPath, registry, platformName, ...tgz] = process.argv.slice(1);
    const [root, platform] = tgz.map((line) => "file:" + path.basename(line.split(" ")[0]));
    const dependencies = { ovnkit: root, [platformName]: platform };
    const name = "ovnkit-install";
    fs.writeFileSync(path.join(out, "package.json"), JSON.stringify({ name, private: true, type: "module", dependencies }, null, 2) + "\n");
    const packages = { "": { name, dependencies } };
    for (const [key, entry] of Object.entries(JSON.parse(fs.readFileSync(lockPath, "utf8")).packages)) {
      if (!key.startsWith("node_modules/") || entry.dev || entry.devOptional) continue;
      // The repo lock has no "resolved" URLs; without one npm needs registry metadata to find
      // the tarball, which an offline install may not have. The registry layout gives the URL;
      // the integrity still decides, and the cache serves the tarball by it.
      const name = key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length);
      const resolved = entry.resolved ?? `${registry.replace(/\/?$/, "/")}${name}/-/${name.split("/").pop()}-${entry.version}.tgz`;
      packages[key] = { ...entry, resolved };
    }
    fs.writeFileSync(path.join(out, "package-lock.json"), JSON.stringify({ name, lockfileVersion: 3, requires: true, packages }, null, 2) + "\n");
  ' "$out" "$PWD/package-lock.json" "$(npm config get registry)" "@ovnkit/binding-$PLATFORM" "$root_line" "$platform_line"
fi
