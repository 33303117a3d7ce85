#!/usr/bin/env bash
# The platform's container images: build them, or push them to the stack's ECR repositories.
#
#   scripts/images.sh build            serving/, batch_processor/ and operators/Dockerfile, built
#                                      from the repository root as byo/<image>:<tag>
#   scripts/images.sh push OUTPUTS     tag and push each to its repository in the stack's outputs
#                                      (`make outputs` writes them: build/outputs-aws.json)
#
# Environment: ENGINE (docker or podman; default: docker if its daemon answers, else podman),
# TAG (default: git describe --always --dirty), TARGET (push refuses local: the embedded AWS has
# no registry), PYTHON (reads the outputs, and logs in without the aws CLI; default .venv/bin/python).
# The stack's monitoring job runs operators:<monitor_image_tag> (default 0.1.0): push with that
# TAG, or set the variable to the tag you push.
set -euo pipefail

IMAGES=(serving batch-processor operators) # the ECR module's repository keys
PYTHON=${PYTHON:-.venv/bin/python}

die() {
  echo "images.sh: $*" >&2
  exit 1
}

dockerfile_of() {
  case $1 in
    serving) echo serving/Dockerfile ;;
    batch-processor) echo batch_processor/Dockerfile ;;
    operators) echo operators/Dockerfile ;;
  esac
}

answers() {
  command -v "$1" >/dev/null && timeout 10 "$1" info >/dev/null 2>&1
}

find_engine() {
  if [[ -n ${ENGINE-} ]]; then
    [[ $ENGINE == docker || $ENGINE == podman ]] || die "ENGINE must be docker or podman, not '$ENGINE'"
    command -v "$ENGINE" >/dev/null || die "ENGINE=$ENGINE is not on PATH"
    answers "$ENGINE" || die "ENGINE=$ENGINE is on PATH but \`$ENGINE info\` fails: is its daemon running?"
    echo "$ENGINE"
    return
  fi
  local candidate
  for candidate in docker podman; do
    if answers "$candidate"; then
      echo "$candidate"
      return
    fi
  done
  die "no container engine: neither docker nor podman is on PATH with a daemon that answers \`info\` (install one, or start its daemon)"
}

image_tag() {
  if [[ -n ${TAG-} ]]; then
    echo "$TAG"
  else
    git describe --always --dirty
  fi
}

build() {
  local engine tag image
  engine=$(find_engine)
  tag=$(image_tag)
  for image in "${IMAGES[@]}"; do
    echo "images.sh: $engine build -f $(dockerfile_of "$image") -t byo/$image:$tag ."
    "$engine" build -f "$(dockerfile_of "$image")" -t "byo/$image:$tag" .
  done
  echo "images.sh: built byo/serving, byo/batch-processor and byo/operators :$tag with $engine"
}

# Prints "<key> <repository url>" per image, from `terraform output -json`.
repository_urls() {
  "$PYTHON" - "$1" "${IMAGES[@]}" <<'EOF'
import json, sys

path, keys = sys.argv[1], sys.argv[2:]
try:
    urls = json.load(open(path))["ecr_repository_urls"]["value"]
except (OSError, ValueError, KeyError, TypeError) as exc:
    sys.exit(f"images.sh: {path} has no ecr_repository_urls output ({exc}): make outputs TARGET=aws")
missing = [key for key in keys if key not in (urls or {})]
if missing:
    sys.exit(f"images.sh: {path}'s ecr_repository_urls has no {', '.join(missing)}")
for key in keys:
    print(key, urls[key])
EOF
}

login_password() {
  local region=$1
  if command -v aws >/dev/null; then
    aws ecr get-login-password --region "$region"
  else
    "$PYTHON" -c '
import base64, sys, boto3
data = boto3.client("ecr", region_name=sys.argv[1]).get_authorization_token()["authorizationData"]
print(base64.b64decode(data[0]["authorizationToken"]).decode().split(":", 1)[1])
' "$region"
  fi
}

push() {
  local outputs=${1-}
  [[ ${TARGET:-local} == aws ]] ||
    die "push needs TARGET=aws: the embedded AWS (TARGET=${TARGET:-local}) has no container registry; the local hosting runs images from the engine's own store (make images)"
  [[ -n $outputs ]] || die "usage: scripts/images.sh push OUTPUTS (the stack's outputs JSON)"
  [[ -f $outputs ]] || die "$outputs does not exist: make outputs TARGET=aws first"
  local engine tag listing key url registry region
  engine=$(find_engine)
  tag=$(image_tag)
  listing=$(repository_urls "$outputs")
  while read -r key _; do
    "$engine" image inspect "byo/$key:$tag" >/dev/null 2>&1 ||
      die "byo/$key:$tag is not built: make images TAG=$tag"
  done <<<"$listing"
  # Every repository is in the stack's one registry: <account>.dkr.ecr.<region>.<domain>.
  registry=$(head -n1 <<<"$listing" | cut -d' ' -f2 | cut -d/ -f1)
  region=$(cut -d. -f4 <<<"$registry")
  login_password "$region" | "$engine" login --username AWS --password-stdin "$registry"
  while read -r key url; do
    "$engine" tag "byo/$key:$tag" "$url:$tag"
    "$engine" push "$url:$tag"
  done <<<"$listing"
  echo "images.sh: pushed ${IMAGES[*]} as :$tag to $registry"
}

case ${1-} in
  build) build ;;
  push) push "${2-}" ;;
  *)
    echo "usage: scripts/images.sh build | push OUTPUTS" >&2
    exit 2
    ;;
esac
