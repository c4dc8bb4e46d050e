#!/usr/bin/env bash
# Installs the Debian 12 packages that OpenNVR for .NET needs beyond the .NET SDK.
# Idempotent: when everything is present it only checks and exits (no apt-get update).
# Usage: eng/setup.sh            (as root, or as a user with sudo)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)

# Package list (one purpose each):
#   postgresql                  PostgreSQL 15 server binaries (/usr/lib/postgresql/15/bin); the app host and the
#                               tests start their own throw-away servers, no system service is used
#   ffmpeg                      RTSP recording (stream copy), snapshots, probing
#   libgtk-3-0                  native dependency of the OpenCvSharp linux-x64 runtime
#   chromium                    browser tests (Playwright drives Debian's chromium, never `playwright install`)
#   RTSP test camera server (eng/rtsp-test-server.py, run with /usr/bin/python3):
#   gir1.2-gst-rtsp-server-1.0  gst-rtsp-server library + GObject introspection data (pulls GStreamer core + GIR)
#   python3-gi                  PyGObject for /usr/bin/python3
#   gstreamer1.0-plugins-base   videotestsrc, videoconvert, typefind (pattern mounts)
#   gstreamer1.0-plugins-good   qtdemux (MP4), rtph264pay, RTP/RTSP plumbing
#   gstreamer1.0-plugins-ugly   x264enc (pattern mounts)
#   gstreamer1.0-plugins-bad    h264parse (videoparsersbad), needed by file mounts
#   curl, jq                    the README's first-five-minutes commands (and its test)
#   mosquitto                   a real MQTT broker for the integration tests (started by the tests on a free port,
#                               never as a system service; production may use Core's embedded broker instead)
#   mosquitto-clients           mosquitto_sub / mosquitto_pub, to watch what Core publishes
PACKAGES=(
  curl
  jq
  postgresql
  ffmpeg
  libgtk-3-0
  chromium
  gir1.2-gst-rtsp-server-1.0
  python3-gi
  gstreamer1.0-plugins-base
  gstreamer1.0-plugins-good
  gstreamer1.0-plugins-ugly
  gstreamer1.0-plugins-bad
  mosquitto
  mosquitto-clients
)

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  SUDO=(sudo)
fi

is_installed() {
  local status
  status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)
  [[ $status == "install ok installed" ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
  if ! is_installed "$pkg"; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "setup: all ${#PACKAGES[@]} packages already installed, nothing to do"
else
  echo "setup: missing packages: ${missing[*]}"

  # Keep maintainer scripts from starting services (the postgresql package would otherwise start a
  # system cluster where an init system exists). Only if no policy-rc.d is in place already.
  policy=/usr/sbin/policy-rc.d
  added_policy=0
  if [[ ! -e $policy ]]; then
    echo "setup: installing temporary $policy (no service starts during install)"
    printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
    "${SUDO[@]}" chmod 755 "$policy"
    added_policy=1
  fi
  cleanup() {
    if [[ $added_policy -eq 1 ]]; then
      echo "setup: removing temporary $policy"
      "${SUDO[@]}" rm -f "$policy"
    fi
  }
  trap cleanup EXIT

  echo "setup: apt-get update"
  "${SUDO[@]}" apt-get update -qq
  echo "setup: apt-get install ${missing[*]}"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "setup: installed ${#missing[@]} package(s)"
fi

# Sanity checks of what the project relies on (fast; fail loudly if something is off).
if [[ ! -x /usr/lib/postgresql/15/bin/postgres || ! -x /usr/lib/postgresql/15/bin/initdb ]]; then
  echo "setup: ERROR: PostgreSQL 15 binaries not found in /usr/lib/postgresql/15/bin" >&2
  exit 1
fi
echo "setup: ok: PostgreSQL 15 binaries in /usr/lib/postgresql/15/bin"
for tool in ffmpeg ffprobe chromium; do
  if ! command -v "$tool" >/dev/null; then
    echo "setup: ERROR: $tool not on PATH" >&2
    exit 1
  fi
done
echo "setup: ok: ffmpeg, ffprobe, chromium on PATH"
if [[ ! -x /usr/sbin/mosquitto ]] || ! command -v mosquitto_sub >/dev/null; then
  echo "setup: ERROR: /usr/sbin/mosquitto or mosquitto_sub missing" >&2
  exit 1
fi
echo "setup: ok: mosquitto broker and clients"
if ! /usr/bin/python3 - <<'PY'
import sys
import gi
gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import Gst, GstRtspServer  # noqa: F401
Gst.init(None)
need = ["videotestsrc", "videoconvert", "x264enc", "filesrc", "qtdemux", "h264parse", "rtph264pay"]
missing = [e for e in need if Gst.ElementFactory.find(e) is None]
if missing:
    print("setup: ERROR: GStreamer elements missing: " + " ".join(missing), file=sys.stderr)
    sys.exit(1)
PY
then
  exit 1
fi
echo "setup: ok: GStreamer RTSP server and elements for eng/rtsp-test-server.py"

# npm tools of the build, the tests and the app host (eng/tools/package.json, exact versions in its
# package-lock.json; node_modules is git-ignored, nothing is installed globally): @redocly/cli lints the OpenAPI
# documents; azurite is the local Azure Blob Storage the app host and the tests run as a real server.
# Node.js 20+ and npm come with the machine image.
# Reinstalled only when the lock file changed since the last install.
tools=$root/eng/tools
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "setup: ERROR: node and npm are needed for eng/tools (Node.js 20 or later)" >&2
  exit 1
fi
lock_hash=$(sha256sum "$tools/package-lock.json" | cut -d' ' -f1)
stamp=$tools/node_modules/.installed-lock-sha256
if [[ -f $stamp && $(cat "$stamp") == "$lock_hash" ]]; then
  echo "setup: ok: npm tools in eng/tools already installed"
else
  echo "setup: npm ci --prefix eng/tools"
  npm ci --prefix "$tools" --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > "$stamp"
fi
if [[ ! -x $tools/node_modules/.bin/azurite-blob ]]; then
  echo "setup: ERROR: azurite-blob missing from eng/tools/node_modules/.bin" >&2
  exit 1
fi
echo "setup: ok: azurite $(node -p "require('$tools/node_modules/azurite/package.json').version") in eng/tools"
