#!/usr/bin/env bash
# One idempotent set-up, shared by `npm run demo`, `npm test` and `npm run notebook`:
#   1. Debian packages: Jupyter (to run notebooks), canvas's build dependencies, ffmpeg (video);
#   2. npm packages (`npm ci`), only when package-lock.json or Node.js changed since the last run;
#   3. the native training kernels (native/, against Debian's oneDNN), only when their sources,
#      Node.js or oneDNN changed; when they cannot be built, training falls back to wasm;
#   4. the project's Jupyter kernel (TypeScript on tslab) in .jupyter/, found through JUPYTER_PATH.
# A second run only checks, in a few seconds. When something cannot be installed (not root, no
# apt-get), it stops with one line saying exactly what to install.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
say() { echo "setup: $*" >&2; }
die() { echo "setup: $*" >&2; exit 1; }

# ---- 0. Node.js ---------------------------------------------------------------------------------
node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 20 || (a === 20 && b >= 6) ? 0 : 1)' 2>/dev/null \
  || die "Node.js 20.6 or newer is required (found $(node --version 2>/dev/null || echo none)); install it from https://nodejs.org"

# ---- 1. Debian packages -------------------------------------------------------------------------
# Jupyter runs the notebooks (Debian's, under /usr/bin/python3); canvas compiles against cairo/pango
# because its prebuilt download is not reachable everywhere; ffmpeg decodes and encodes video.
DEBIAN_PACKAGES=(
  jupyter-nbconvert python3-nbclient jupyter-client python3-ipykernel jupyter-notebook chromium ffmpeg
  build-essential pkg-config libcairo2-dev libpango1.0-dev libjpeg-dev libgif-dev librsvg2-dev
)
# Wanted but not required: oneDNN for the native training kernels (without it: wasm, ~20x slower);
# the Vulkan loader for the WebGPU backend (Dawn, from npm's `webgpu`): with a GPU driver it trains
# there, and without one the tests run it on the SwiftShader Vulkan that Debian's chromium ships.
OPTIONAL_PACKAGES=(libdnnl-dev libvulkan1)
# Optional: PyTorch from Debian, the reference `deepfake-lab bench --reference torch` compares with.
[ "${DEEPFAKE_SETUP_TORCH:-0}" = 1 ] && DEBIAN_PACKAGES+=(python3-torch)
if command -v dpkg-query >/dev/null 2>&1; then
  missing=()
  for p in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then sudo=()
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=(sudo -n)
    else die "missing Debian packages; run: sudo apt-get install -y ${missing[*]}"
    fi
    command -v apt-get >/dev/null 2>&1 || die "missing Debian packages and no apt-get; install: ${missing[*]}"
    say "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq >&2 || die "apt-get update failed; run: sudo apt-get update && sudo apt-get install -y ${missing[*]}"
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2 \
      || die "apt-get install failed; run: sudo apt-get install -y ${missing[*]}"
  fi
  for p in "${OPTIONAL_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' && continue
    if [ "$(id -u)" = 0 ] || { command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; }; then
      [ "$(id -u)" = 0 ] && sudo=() || sudo=(sudo -n)
      say "installing $p (optional)"
      DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$p" >&2 \
        || { "${sudo[@]}" apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$p" >&2; } \
        || say "could not install $p; training will use wasm (run: sudo apt-get install -y $p)"
    else
      say "optional package $p missing; training will use wasm (run: sudo apt-get install -y $p)"
    fi
  done
else
  # Not Debian: check for the commands themselves and say what is needed.
  command -v jupyter >/dev/null 2>&1 && jupyter nbconvert --version >/dev/null 2>&1 \
    || die "Jupyter with nbconvert and nbclient is required; install Jupyter (e.g. pip install notebook nbconvert nbclient ipykernel)"
  pkg-config --exists cairo pangocairo 2>/dev/null \
    || die "canvas needs cairo and pango development files; install cairo, pango, libjpeg, giflib and librsvg with their headers"
  command -v ffmpeg >/dev/null 2>&1 && command -v ffprobe >/dev/null 2>&1 || die "video needs ffmpeg and ffprobe; install ffmpeg"
fi

# ---- 2. npm packages ----------------------------------------------------------------------------
# npm ci is slow (canvas compiles); run it only when the lock file or Node.js changed.
stamp_file="node_modules/.deepfake-lab-setup"
want_stamp="$(node -e '
  const c = require("crypto"), fs = require("fs");
  const h = c.createHash("sha256").update(fs.readFileSync("package-lock.json")).update(process.version).digest("hex");
  console.log(h)')"
if [ ! -f "$stamp_file" ] || [ "$(cat "$stamp_file")" != "$want_stamp" ]; then
  say "installing npm packages (npm ci; canvas compiles from source, about a minute)"
  npm ci --no-audit --no-fund >&2 || die "npm ci failed (see above); fix the error and run again"
  node -e 'require("canvas"); require("sharp"); require("@tensorflow/tfjs-backend-wasm")' \
    || die "npm packages installed but canvas or sharp does not load; see the error above"
  echo "$want_stamp" > "$stamp_file"
fi

# ---- 3. Native training kernels -----------------------------------------------------------------
# node-gyp compiles native/ against oneDNN's headers. A failure is not fatal: lib/engine/backend.ts then
# picks wasm and `doctor` says why.
native_stamp="native/build/.deepfake-lab-stamp"
dnnl_version="$(dpkg-query -W -f='${Version}' libdnnl-dev 2>/dev/null || true)"
want_native="$(node -e '
  const c = require("crypto"), fs = require("fs"), p = require("path");
  const h = c.createHash("sha256").update(process.version).update(process.argv[1]);
  // -march=native: another CPU (a copied checkout, a moved disk) needs its own build.
  try { h.update(fs.readFileSync("/proc/cpuinfo", "utf8").split("\n").find((l) => l.startsWith("flags")) || ""); } catch {}
  for (const f of ["native/binding.gyp", ...fs.readdirSync("native/src").sort().map((f) => p.join("native/src", f))]) h.update(f).update(fs.readFileSync(f));
  console.log(h.digest("hex"))' "$dnnl_version")"
if [ ! -f "$native_stamp" ] || [ "$(cat "$native_stamp")" != "$want_native" ]; then
  if [ -z "$dnnl_version" ] && [ ! -f /usr/include/oneapi/dnnl/dnnl.hpp ]; then
    say "oneDNN (libdnnl-dev) not installed: skipping the native kernels; training will use wasm"
  else
    gyp="${npm_config_node_gyp:-$(npm root -g 2>/dev/null)/npm/node_modules/node-gyp/bin/node-gyp.js}"
    gyp_args=(rebuild)
    if [ -n "${npm_config_nodedir:-}" ]; then gyp_args+=("--nodedir=$npm_config_nodedir")
    elif [ -f /usr/include/node/node_api.h ] && [ "$(command -v node)" = /usr/bin/node ]; then gyp_args+=(--nodedir=/usr)
    fi
    say "building the native training kernels (oneDNN $dnnl_version; about 30 s)"
    if (cd native && node "$gyp" "${gyp_args[@]}" >build.log 2>&1) \
      && node --import tsx scripts/native-cpu.ts native/build/Release/deepfake_native.node >>native/build.log 2>&1; then
      echo "$want_native" > "$native_stamp"
      rm -f native/build.log
    else
      say "native kernels failed to build (see native/build.log); training will use wasm"
    fi
  fi
fi

# ---- 4. The project's Jupyter kernel ------------------------------------------------------------
node --import tsx scripts/kernelspec.ts
