#!/usr/bin/env bash
# Build the one-folder Studio bundle with PyInstaller and print its size.
#
#   packaging/build.sh                 # lean bundle, no torch: packaging/dist/lean/
#   packaging/build.sh --with-models   # + torch/transformers for MERT/CLAP: packaging/dist/models/
#   packaging/build.sh --archive       # also pack it (.tar.gz on Linux/macOS, .zip on Windows)
#
# Uses .venv (Python from $PYTHON otherwise) and installs PyInstaller into it when missing.
# Works under Git Bash on Windows too. Model weights are never bundled.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

variant=lean
spec_args=()
archive=0
for arg in "$@"; do
    case "$arg" in
        --with-models) variant=models; spec_args=(-- --with-models) ;;
        --archive) archive=1 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        *) echo "build.sh: unknown option $arg (see --help)" >&2; exit 2 ;;
    esac
done

if [[ -x .venv/bin/python ]]; then PY=.venv/bin/python
elif [[ -x .venv/Scripts/python.exe ]]; then PY=.venv/Scripts/python.exe
else PY="${PYTHON:-python3}"; fi

if ! "$PY" -c "import PyInstaller" 2>/dev/null; then
    echo "installing PyInstaller into $("$PY" -c 'import sys; print(sys.prefix)')"
    "$PY" -m pip install --quiet "pyinstaller>=6.10"
fi
if [[ $variant == models ]] && ! "$PY" -c "import torch, transformers" 2>/dev/null; then
    echo "build.sh: --with-models needs torch and transformers: pip install -e '.[models]'" >&2
    exit 1
fi
# The spec takes the icons from resources/icons (made by make_icons.py, needs Pillow).
if [[ ! -f resources/icons/studio.ico || ! -f resources/icons/studio.icns ]]; then
    "$PY" -m pip install --quiet Pillow
    "$PY" resources/icons/make_icons.py
fi

dist="packaging/dist/$variant"
start=$SECONDS
"$PY" -m PyInstaller packaging/studio.spec --noconfirm --log-level WARN \
    --workpath "packaging/build/$variant" --distpath "$dist" "${spec_args[@]}"

case "$(uname -s)" in
    Darwin) bundle="$dist/Studio.app"; exe="$bundle/Contents/MacOS/studio" ;;
    MINGW*|MSYS*|CYGWIN*) bundle="$dist/studio"; exe="$bundle/studio-cli.exe" ;;
    *) bundle="$dist/studio"; exe="$bundle/studio" ;;
esac
version="$("$exe" --version 2>/dev/null || echo '?')"
echo
echo "built $version ($variant) in $((SECONDS - start)) s"
echo "bundle:     $bundle"
echo "executable: $exe"
echo "size:       $(du -sh "$bundle" | cut -f1) on disk, $(find "$bundle" -type f | wc -l | tr -d ' ') files"

if [[ $archive == 1 ]]; then
    version_tag="${version##* }"
    os="$(uname -s | tr '[:upper:]' '[:lower:]')-$(uname -m)"
    name="studio-${version_tag}-${os}-${variant}"
    (cd "$dist" && case "$os" in
        mingw*|msys*|cygwin*) "$ROOT/$PY" -m zipfile -c "$name.zip" "$(basename "$bundle")" ;;
        *) tar czf "$name.tar.gz" "$(basename "$bundle")" ;;
    esac)
    echo "archive:    $(ls -sh "$dist/$name".* | awk '{print $1, $2}')"
fi
