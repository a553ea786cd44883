#!/usr/bin/env bash
# Type-checks the rclnodejs adapter (src/transport/rclnodejs) against the published typings of
# the rclnodejs version pinned in package.json's optionalDependencies, without ROS 2 and
# without installing rclnodejs (its install script builds a native addon against ROS 2).
#
#   scripts/check-rclnodejs-types.sh          type-check, plus a self-test proving that a call
#                                             rclnodejs does not declare fails the check
#   scripts/check-rclnodejs-types.sh --emit   also compile the adapter into dist/ (after npm run build)
#
# The tarball comes from the npm registry with `npm pack` (which downloads and never runs a
# package's scripts) into .cache/rclnodejs-<version>/. rclnodejs's typings reference a file it
# generates at install time from the sourced ROS packages (types/interfaces.d.ts); a stand-in
# with the generator's shape is copied there from scripts/rclnodejs-typecheck/interfaces.d.ts.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

emit=false
for arg in "$@"; do
  case "$arg" in
    --emit) emit=true ;;
    *) echo "usage: $0 [--emit]" >&2; exit 2 ;;
  esac
done

version="$(node -p 'require("./package.json").optionalDependencies?.rclnodejs ?? ""')"
if [ -z "$version" ]; then
  echo "check-rclnodejs-types: package.json has no optionalDependencies.rclnodejs pin" >&2
  exit 2
fi
cache="$root/.cache/rclnodejs-$version"
types="$cache/package/types"

if [ ! -f "$types/index.d.ts" ]; then
  mkdir -p "$cache"
  echo "check-rclnodejs-types: fetching rclnodejs@$version typings (npm pack, no install scripts)"
  tarball="$(cd "$cache" && npm pack "rclnodejs@$version" --ignore-scripts --silent 2>/dev/null | tail -n 1)"
  tar -xzf "$cache/$tarball" -C "$cache" package/package.json package/types
  rm -f "$cache/$tarball"
fi
installed="$(node -p "require('$cache/package/package.json').version")"
if [ "$installed" != "$version" ]; then
  echo "check-rclnodejs-types: extracted rclnodejs is $installed, expected $version" >&2
  exit 1
fi
cp scripts/rclnodejs-typecheck/interfaces.d.ts "$types/interfaces.d.ts"

write_tsconfig() { # <file> <include glob…>
  local file="$1"
  shift
  local include
  include="$(printf '"%s",' "$@")"
  cat >"$file" <<EOF
{
  "extends": "$root/tsconfig.json",
  "compilerOptions": {
    "noEmit": true,
    "rootDir": "$root",
    "outDir": "$root/dist",
    "types": ["node"],
    "paths": { "rclnodejs": ["$types/index.d.ts"] }
  },
  "include": [${include%,}],
  "exclude": []
}
EOF
}

write_tsconfig "$cache/tsconfig.json" "$root/src/transport/rclnodejs/**/*.ts"
echo "check-rclnodejs-types: type-checking src/transport/rclnodejs against rclnodejs@$version typings"
npx tsc -p "$cache/tsconfig.json"

# Self-test: the probe calls a method rclnodejs does not declare. If it type-checks, the
# typings did not resolve (rclnodejs became `any`) and the check above proved nothing.
write_tsconfig "$cache/tsconfig.selftest.json" "$root/scripts/rclnodejs-typecheck/probe-undeclared-call.ts"
if output="$(npx tsc -p "$cache/tsconfig.selftest.json" 2>&1)"; then
  echo "check-rclnodejs-types: self-test FAILED: a call rclnodejs does not declare type-checked" >&2
  exit 1
fi
if ! grep -q "createRawSubscription" <<<"$output"; then
  echo "check-rclnodejs-types: self-test FAILED: the probe failed for another reason:" >&2
  echo "$output" >&2
  exit 1
fi
echo "check-rclnodejs-types: self-test ok (an undeclared rclnodejs call is rejected)"

if [ "$emit" = true ]; then
  npx tsc -p "$cache/tsconfig.json" --noEmit false --sourceMap
  echo "check-rclnodejs-types: emitted dist/src/transport/rclnodejs"
fi
echo "check-rclnodejs-types: ok"
