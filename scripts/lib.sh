# Shared helpers for the scripts: `source scripts/lib.sh` from the repo root.
export RECS_HOME="${RECS_HOME:-$PWD/.recs}"
export TF_CPP_MIN_LOG_LEVEL="${TF_CPP_MIN_LOG_LEVEL:-2}"
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
export CDK_DISABLE_CLI_TELEMETRY=true
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export SAGEMAKER_VALIDATE_ROLE=false
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export CHROMIUM_PATH="${CHROMIUM_PATH:-/usr/bin/chromium}"

step() { printf '\n==> %s\n' "$*"; }
run() { printf '+ %s\n' "$*"; "$@"; }
# apt_install PACKAGE...: Debian packages (through sudo when not root), only what they
# depend on (no recommended extras). Fails with a message naming what to install by hand
# when the machine has no apt.
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: this machine has no apt-get; install these by hand with its package" \
      "manager, then run the command again: $*" >&2
    return 1
  fi
  local sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  run "${sudo_cmd[@]}" apt-get update -qq
  run "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "$@"
}
