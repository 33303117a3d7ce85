#!/usr/bin/env bash
# `terraform test` in every Terraform module, a few modules at a time.
#
#   scripts/tf-test.sh [MODULE_DIR...]     default: every terraform/modules/* with a tests/ folder
#
# The tests are plans against mock providers, so they are CPU-bound: TF_TEST_JOBS (default 2)
# modules run at once. Each module's output goes to TF_TEST_LOG_DIR/<module>.log (default
# build/tf-test) and is printed whole, in module order, as soon as that module and the ones before
# it are done; any failure fails the script. Terraform's CLI config (TF_CLI_CONFIG_FILE) comes
# from the caller.
set -euo pipefail

log_dir=${TF_TEST_LOG_DIR:-build/tf-test}
max_jobs=${TF_TEST_JOBS:-2}

if (($# > 0)); then
  modules=("$@")
else
  modules=()
  for tests in terraform/modules/*/tests; do
    modules+=("${tests%/tests}")
  done
fi
modules=("${modules[@]%/}")

rm -rf "$log_dir"
mkdir -p "$log_dir"

test_module() {
  local dir=$1 name=${1##*/} status=0
  {
    terraform -chdir="$dir" init -input=false -backend=false >/dev/null &&
      terraform -chdir="$dir" test -no-color
  } >"$log_dir/$name.log" 2>&1 || status=$?
  # Written whole, then renamed: the printer never reads a half-written status.
  echo "$status" >"$log_dir/$name.rc.tmp"
  mv "$log_dir/$name.rc.tmp" "$log_dir/$name.rc"
}

printed=0
failed=()
print_finished() {
  local dir name
  while ((printed < ${#modules[@]})); do
    dir=${modules[printed]}
    name=${dir##*/}
    [[ -e $log_dir/$name.rc ]] || return 0
    echo "terraform test $dir/"
    cat "$log_dir/$name.log"
    if [[ $(<"$log_dir/$name.rc") != 0 ]]; then
      echo "FAILED: terraform test $dir/"
      failed+=("$name")
    fi
    printed=$((printed + 1))
  done
}

running=0
for dir in "${modules[@]}"; do
  if ((running >= max_jobs)); then
    wait -n
    running=$((running - 1))
    print_finished
  fi
  test_module "$dir" &
  running=$((running + 1))
done
while ((running > 0)); do
  wait -n
  running=$((running - 1))
  print_finished
done

if ((${#failed[@]} > 0)); then
  echo "terraform test: ${#failed[@]} of ${#modules[@]} modules failed: ${failed[*]}"
  exit 1
fi
echo "terraform test: all ${#modules[@]} modules passed"
