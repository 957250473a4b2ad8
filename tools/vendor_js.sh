#!/usr/bin/env bash
# Refresh the JavaScript that the book serves itself instead of loading from a CDN.
#
#   vendor/mathjax/           MathJax 3 (TeX input, SVG output, every TeX extension in one file;
#                             SVG needs no web fonts, so math renders from file:// too)
#   vendor/jupyter-widgets/   @jupyter-widgets/html-manager embed.js (renders saved ipywidgets
#                             state on the static pages; needs no require.js) + its icon fonts
#
# The files are committed, so `make book` needs no npm; vendor/SHA256SUMS lists their sums
# (tests/test_book.py checks them). Needs npm and the npm registry:
#
#   tools/vendor_js.sh           fetch the pinned versions into vendor/ and rewrite SHA256SUMS
#   tools/vendor_js.sh --check   fetch them into a temporary folder and compare with vendor/
#
# npm checks each package tarball against the registry's integrity hash (sha512).
set -euo pipefail
check=false
[[ "${1:-}" == "--check" ]] && check=true

MATHJAX_VERSION=3.2.2
HTML_MANAGER_VERSION=1.0.15

root="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
out="$work/vendor"
trap 'rm -rf "$work"' EXIT
cd "$work"

npm pack --silent "mathjax@${MATHJAX_VERSION}" "@jupyter-widgets/html-manager@${HTML_MANAGER_VERSION}" >/dev/null
mkdir mathjax html-manager
tar xzf "mathjax-${MATHJAX_VERSION}.tgz" -C mathjax
tar xzf "jupyter-widgets-html-manager-${HTML_MANAGER_VERSION}.tgz" -C html-manager

dest="$out/mathjax"
rm -rf "$dest" && mkdir -p "$dest"
cp mathjax/package/es5/tex-svg-full.js mathjax/package/LICENSE "$dest/"
echo "mathjax@${MATHJAX_VERSION} (npm), es5/tex-svg-full.js" > "$dest/VERSION"

dest="$out/jupyter-widgets"
rm -rf "$dest" && mkdir -p "$dest"
dist=html-manager/package/dist
cp "$dist/embed.js" "$dist/embed.js.LICENSE.txt" "$dest/"
# embed.js finds its assets next to itself; browsers that read woff2 fetch nothing else.
grep -o '"[0-9a-f]\{20\}\.woff2"' "$dist/embed.js" | tr -d '"' | sort -u | while read -r font; do
    cp "$dist/$font" "$dest/"
done
# html-manager is part of the ipywidgets repository; its npm package ships no LICENSE file.
cat > "$dest/LICENSE" <<'LICENSE'
Copyright (c) 2015 Project Jupyter Contributors
All rights reserved.

Redistribution and use in source and binary forms, with or without
modification, are permitted provided that the following conditions are met:

1. Redistributions of source code must retain the above copyright notice, this
   list of conditions and the following disclaimer.

2. Redistributions in binary form must reproduce the above copyright notice,
   this list of conditions and the following disclaimer in the documentation
   and/or other materials provided with the distribution.

3. Neither the name of the copyright holder nor the names of its
   contributors may be used to endorse or promote products derived from
   this software without specific prior written permission.

THIS SOFTWARE IS PROVIDED BY THE COPYRIGHT HOLDERS AND CONTRIBUTORS "AS IS"
AND ANY EXPRESS OR IMPLIED WARRANTIES, INCLUDING, BUT NOT LIMITED TO, THE
IMPLIED WARRANTIES OF MERCHANTABILITY AND FITNESS FOR A PARTICULAR PURPOSE ARE
DISCLAIMED. IN NO EVENT SHALL THE COPYRIGHT HOLDER OR CONTRIBUTORS BE LIABLE
FOR ANY DIRECT, INDIRECT, INCIDENTAL, SPECIAL, EXEMPLARY, OR CONSEQUENTIAL
DAMAGES (INCLUDING, BUT NOT LIMITED TO, PROCUREMENT OF SUBSTITUTE GOODS OR
SERVICES; LOSS OF USE, DATA, OR PROFITS; OR BUSINESS INTERRUPTION) HOWEVER
CAUSED AND ON ANY THEORY OF LIABILITY, WHETHER IN CONTRACT, STRICT LIABILITY,
OR TORT (INCLUDING NEGLIGENCE OR OTHERWISE) ARISING IN ANY WAY OUT OF THE USE
OF THIS SOFTWARE, EVEN IF ADVISED OF THE POSSIBILITY OF SUCH DAMAGE.
LICENSE
echo "@jupyter-widgets/html-manager@${HTML_MANAGER_VERSION} (npm), dist/embed.js" > "$dest/VERSION"

(cd "$out" && find . -type f ! -name SHA256SUMS | LC_ALL=C sort | sed 's|^\./||' | xargs sha256sum > SHA256SUMS)
if $check; then
    diff -r "$out" "$root/vendor" && echo "vendor/ matches the pinned npm packages"
else
    rm -rf "$root/vendor" && cp -r "$out" "$root/vendor"
    du -sh "$root/vendor"/*
fi
