#!/bin/sh
# Vendor the dashboard's two JavaScript libraries from npm at pinned versions (no CDN at run
# time): htmx for partial page updates, ECharts for charts. Run from the repository root;
# the minified files and their licences land in src/qunzhu/http/web/static/vendor/.
set -eu
HTMX_VERSION=2.0.4
ECHARTS_VERSION=5.6.0
DEST="$(pwd)/src/qunzhu/http/web/static/vendor"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "htmx.org@${HTMX_VERSION}" "echarts@${ECHARTS_VERSION}" >/dev/null
tar -xzf "htmx.org-${HTMX_VERSION}.tgz" && mv package htmx
tar -xzf "echarts-${ECHARTS_VERSION}.tgz" && mv package echarts
mkdir -p "$DEST"
cp htmx/dist/htmx.min.js "$DEST/htmx-${HTMX_VERSION}.min.js"
cp htmx/LICENSE "$DEST/htmx-LICENSE.txt"
cp echarts/dist/echarts.min.js "$DEST/echarts-${ECHARTS_VERSION}.min.js"
cp echarts/LICENSE "$DEST/echarts-LICENSE.txt"
cp echarts/NOTICE "$DEST/echarts-NOTICE.txt" 2>/dev/null || true
( cd "$DEST" && sha256sum ./*.min.js > SHA256SUMS )
echo "vendored htmx ${HTMX_VERSION} and echarts ${ECHARTS_VERSION} into ${DEST}"
