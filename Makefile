# BYO model platform. `make help` lists the targets.
# TARGET=local (default) runs against the embedded AWS emulator; TARGET=aws against real AWS.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
BUILD := build

TARGET ?= local
EMULATOR_HOST ?= 127.0.0.1
EMULATOR_PORT ?= 4566
EMULATOR_PIDFILE := .localaws/emulator.pid
HOSTING_PORT ?= $(shell echo $$(($(EMULATOR_PORT) + 1)))
EMULATOR_URL := http://$(EMULATOR_HOST):$(EMULATOR_PORT)
RUNTIME_URL := http://$(EMULATOR_HOST):$(HOSTING_PORT)

# STACK=terraform/stacks/multi-region applies the platform in two regions (its README); each
# stack other than the platform keeps its own provider cache and state (<target>-<stack>).
STACK := terraform/stacks/platform
STACK_STATE := $(TARGET)$(if $(filter platform,$(notdir $(STACK))),,-$(notdir $(STACK)))
TF_RC := $(abspath $(BUILD))/terraform.rc
TF := TF_CLI_CONFIG_FILE=$(TF_RC) terraform
# Each target has its own provider cache and state; state lives outside build/ so `make clean`
# never loses track of real resources.
TF_STACK := TF_CLI_CONFIG_FILE=$(TF_RC) TF_DATA_DIR=$(abspath $(BUILD))/tf/$(STACK_STATE) terraform
TF_STATE := $(abspath .state)/$(STACK_STATE)/terraform.tfstate

DATA := $(BUILD)/data/creditcard.csv
TRIGGER_ZIP := $(BUILD)/lambda/trigger.zip
MODEL := $(BUILD)/model/model.tar.gz
OUTPUTS := $(BUILD)/outputs-$(STACK_STATE).json
LOGS := $(BUILD)/logs

ifeq ($(TARGET),local)
  # The emulator's fixed test credentials; requests go to it through the standard endpoint variable.
  AWS_ENV := AWS_ENDPOINT_URL=$(EMULATOR_URL) AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME=$(RUNTIME_URL) \
             AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
             AWS_DEFAULT_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
  # The loops on, with a short cool-down and canary wait (the demo's last act; the stack's own
  # default is no loops).
  TF_VARS := -var emulator=true \
             -var 'loops={retrain_on_new_data = false, alarm_cooldown_seconds = 60, deploy_canary_wait_seconds = 10}'
  NEEDS_EMULATOR := emulator-up
else ifeq ($(TARGET),aws)
  AWS_ENV :=
  TF_VARS := -var emulator=false
  NEEDS_EMULATOR :=
else
  $(error TARGET must be 'local' or 'aws', not '$(TARGET)')
endif

# pip warns about every find-links location of this machine's pip config that does not exist;
# the rest of its stderr stays.
PIP_STDERR_FILTER := 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)

.PHONY: help setup test lint format demo apply plan destroy emulator-up emulator-down model data \
        sample-csv bench clean tf-init tf-config compat-venv security lambda-package validate tf-test \
        test-prerequisites \
        outputs images push bundle

help: ## List the targets
	@echo "Usage: make <target> [TARGET=local|aws]"
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-16s %s\n", $$1, $$2}'

setup: $(STAMP) ## Create .venv and install the project with pinned dependencies (no-op when current)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[local,dev,pipelines]' \
	  $(PIP_STDERR_FILTER)
	touch $@

COMPAT_VENV := $(BUILD)/compat/xgboost17
COMPAT_PY := $(COMPAT_VENV)/bin/python

test: ## Lint, checkov, validate, then every test (unit, emulator, e2e, Terraform modules' terraform test)
	@$(MAKE) --no-print-directory -j2 --output-sync=target test-prerequisites
	$(PY) -m pytest -n 2 --dist loadfile --durations=20

# What the tests need first, two at a time (the three venvs' installs, checkov and the linters
# are mostly one core each: in a row they took ~7 of CI's minutes); each target's output is
# printed whole once it is done.
test-prerequisites: setup lint security validate compat-venv lambda-package

tf-test: tf-config ## terraform test in every module, two at a time (mock providers; logs in build/tf-test/)
	@TF_CLI_CONFIG_FILE=$(TF_RC) TF_TEST_LOG_DIR=$(BUILD)/tf-test scripts/tf-test.sh

compat-venv: $(COMPAT_VENV)/.installed ## Build the XGBoost 1.7 venv the model-compatibility test uses

$(COMPAT_VENV)/.installed: tests/compat/requirements-xgboost17.txt
	rm -rf $(COMPAT_VENV)
	$(PYTHON) -m venv $(COMPAT_VENV)
	$(COMPAT_PY) -m pip install --quiet --disable-pip-version-check -r $< $(PIP_STDERR_FILTER)
	touch $@

# checkov cannot share the project's venv (its pins conflict with boto3/pytest): its own tool venv.
CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION := 3.3.30

CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(CHECKOV_VERSION)

# --no-compile: checkov runs once per `make test`; pip byte-compiling its whole venv cost more
# than compiling what that run imports.
$(CHECKOV_STAMP):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --disable-pip-version-check --no-compile \
	  checkov==$(CHECKOV_VERSION) $(PIP_STDERR_FILTER)
	touch $@

security: $(CHECKOV_STAMP) ## checkov over terraform/: 0 failed checks (skips are inline, with reasons)
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --directory terraform --framework terraform \
	  --quiet --compact --skip-download --download-external-modules false

# The hooks of .pre-commit-config.yaml, over the whole tree; the pre-commit store stays in build/.
lint: setup tf-config ## ruff (lint + format check), terraform fmt -check, hadolint, shellcheck
	TF_CLI_CONFIG_FILE=$(TF_RC) PRE_COMMIT_HOME=$(abspath $(BUILD))/pre-commit \
	  $(VENV)/bin/pre-commit run --all-files

format: setup tf-config ## Apply ruff and terraform formatting
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	$(TF) fmt -recursive terraform

PHASE := scripts/phase.sh
# The demo's phases run make through this name, not a literal $(MAKE): so `make -n demo` lists
# the phases instead of running them.
PHASE_MAKE := $(MAKE) --no-print-directory
TF_APPLY_COUNTS := [0-9]+ added, [0-9]+ changed, [0-9]+ destroyed

demo: ## The main job: emulator, model, the stack, then the story (one line per phase; logs: build/logs/)
	@$(PHASE) setup $(LOGS)/setup.log -- $(PHASE_MAKE) setup
ifeq ($(TARGET),local)
	@$(PHASE) emulator $(LOGS)/emulator.log -- $(PHASE_MAKE) emulator-up
endif
	@$(PHASE) data $(LOGS)/data.log -- $(PHASE_MAKE) data
	@$(PHASE) model $(LOGS)/model.log -- $(PHASE_MAKE) model
	@$(PHASE) "lambda package" $(LOGS)/lambda-package.log -- $(PHASE_MAKE) lambda-package
	@$(PHASE) "terraform init" $(LOGS)/terraform-init.log -- $(PHASE_MAKE) tf-init
	@$(PHASE) --detail '$(TF_APPLY_COUNTS)' "terraform apply" $(LOGS)/terraform-apply.log -- \
	  env $(TF_APPLY) -no-color
	@$(PHASE) outputs $(LOGS)/outputs.log -- $(PHASE_MAKE) outputs
	@$(AWS_ENV) $(PY) -m operators.demo --model-dir $(BUILD)/model --outputs $(OUTPUTS)
ifeq ($(TARGET),local)
	@echo "The emulator keeps running at $(EMULATOR_URL); stop it with: make emulator-down"
endif

outputs: tf-config ## Save the stack's outputs (after apply) to build/outputs-<target>.json for byo --outputs
	$(TF_STACK) -chdir=$(STACK) output -json > $(OUTPUTS)

tf-config: setup
	@$(PY) -m operators.terraform cli-config $(TF_RC) >/dev/null

tf-init: tf-config
	$(TF_STACK) -chdir=$(STACK) init -input=false -lockfile=readonly \
	  -backend-config=path=$(TF_STATE) >/dev/null

lambda-package: $(TRIGGER_ZIP) ## Build the trigger Lambda's zip (stable hash)

$(TRIGGER_ZIP): $(STAMP) batch_processor/__init__.py batch_processor/trigger.py batch_processor/package.py
	$(PY) -m batch_processor.package $@

validate: tf-init ## terraform validate of the platform stack
	$(TF_STACK) -chdir=$(STACK) validate

# The files the stack reads come in as variables. plan and destroy do not build the model: they
# work on a checkout that never trained.
TF_FILE_VARS := -var initial_model_path=$(abspath $(MODEL)) \
                -var trigger_package_path=$(abspath $(TRIGGER_ZIP))
TF_APPLY := $(AWS_ENV) $(TF_STACK) -chdir=$(STACK) apply -input=false -auto-approve $(TF_VARS) \
            $(TF_FILE_VARS)

plan: $(NEEDS_EMULATOR) tf-init lambda-package ## terraform plan of the platform stack (no model needed)
	$(AWS_ENV) $(TF_STACK) -chdir=$(STACK) plan -input=false $(TF_VARS) $(TF_FILE_VARS)

apply: $(NEEDS_EMULATOR) model tf-init lambda-package ## terraform apply of the platform stack
	$(TF_APPLY)

destroy: $(NEEDS_EMULATOR) tf-init lambda-package ## terraform destroy of the platform stack (no model needed)
	$(AWS_ENV) $(TF_STACK) -chdir=$(STACK) destroy -input=false -auto-approve $(TF_VARS) \
	  $(TF_FILE_VARS)

# The emulator keeps its state in memory: a new one makes the local Terraform state meaningless.
emulator-up: setup ## Start the embedded AWS (127.0.0.1:4566; its runtime: Lambda, Batch, EventBridge, alarms, scaling) + SageMaker runtime (:4567) in the background (LOCALAWS_RUNTIME_OFF=svc,... switches services off)
	@$(PY) -m localaws.emulator --pidfile $(EMULATOR_PIDFILE) --status >/dev/null || rm -rf .state/local .state/local-*
	@$(PY) -m localaws.emulator --host $(EMULATOR_HOST) --port $(EMULATOR_PORT) \
	  --hosting-port $(HOSTING_PORT) --pidfile $(EMULATOR_PIDFILE) --detach

emulator-down: setup ## Stop the emulator started by emulator-up
	@$(PY) -m localaws.emulator --pidfile $(EMULATOR_PIDFILE) --stop

data: $(DATA) ## Generate the synthetic credit-card-fraud dataset

$(DATA): $(STAMP) sample/generate.py
	$(PY) -m sample generate --out $@

model: $(MODEL) ## Train XGBoost into build/model/{model.tar.gz,evaluation.json}

$(MODEL): $(DATA) operators/pipeline/training.py serving/artifact.py
	$(PY) -m operators.pipeline.training --data $(DATA) --out-dir $(dir $@)

sample-csv: setup ## Regenerate sample/sample.csv (a few headerless feature rows)
	$(PY) -m sample sample-csv --out sample/sample.csv

# ENGINE (docker|podman) and TAG (default: git describe) come from the command line or environment.
images: ## Build byo/{serving,batch-processor,operators}:<TAG> with docker, else podman [ENGINE=, TAG=]
	@ENGINE='$(ENGINE)' TAG='$(TAG)' scripts/images.sh build

push: setup ## Tag and push the images to the stack's ECR repositories (TARGET=aws, after make outputs)
	@ENGINE='$(ENGINE)' TAG='$(TAG)' TARGET='$(TARGET)' PYTHON='$(PY)' scripts/images.sh push $(OUTPUTS)

bundle: ## Make the images' source bundle for CodeBuild: build/bundle/source.zip (+ .sha256), the same bytes for the same tracked files
	@$(PYTHON) scripts/bundle.py --out $(BUILD)/bundle

bench: setup ## Run the benchmarks and write bench/RESULTS.md
	$(PY) -m bench

clean: emulator-down ## Remove build outputs and the emulator's state (keeps .venv)
	rm -rf $(BUILD) .localaws
